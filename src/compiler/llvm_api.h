/* compiler/llvm_api.h — the LLVM C API functions the compiler uses, loaded from Debian's
 * libLLVM-14 on first use (dlopen), so that only the programs that compile pay for loading it
 * (about 110 MB of library) and the static core needs none of it. Call as `A->BuildAdd(...)` for
 * LLVMBuildAdd: each member has the real function's type, from LLVM's own headers.
 *
 * Process-wide state (documented exception to "no mutable globals"): the table is filled once,
 * under pthread_once, and read-only afterwards. */
#ifndef WB_COMPILER_LLVM_API_H
#define WB_COMPILER_LLVM_API_H

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "base/error.h"

#define WB_LLVM_FUNCS(X)                                                                           \
    X(AddAttributeAtIndex)                                                                         \
    X(AddCase)                                                                                     \
    X(AddFunction)                                                                                 \
    X(AddIncoming)                                                                                 \
    X(AddTargetDependentFunctionAttr)                                                              \
    X(AppendBasicBlockInContext)                                                                   \
    X(BuildAShr)                                                                                   \
    X(BuildAdd)                                                                                    \
    X(BuildAggregateRet)                                                                           \
    X(BuildAlloca)                                                                                 \
    X(BuildAnd)                                                                                    \
    X(BuildArrayAlloca)                                                                            \
    X(BuildBitCast)                                                                                \
    X(BuildBr)                                                                                     \
    X(BuildCall2)                                                                                  \
    X(BuildCondBr)                                                                                 \
    X(BuildExtractElement)                                                                         \
    X(BuildExtractValue)                                                                           \
    X(BuildFAdd)                                                                                   \
    X(BuildFCmp)                                                                                   \
    X(BuildFDiv)                                                                                   \
    X(BuildFMul)                                                                                   \
    X(BuildFNeg)                                                                                   \
    X(BuildFPCast)                                                                                 \
    X(BuildFPExt)                                                                                  \
    X(BuildFPToSI)                                                                                 \
    X(BuildFPToUI)                                                                                 \
    X(BuildFPTrunc)                                                                                \
    X(BuildFRem)                                                                                   \
    X(BuildFSub)                                                                                   \
    X(BuildGEP2)                                                                                   \
    X(BuildICmp)                                                                                   \
    X(BuildInBoundsGEP2)                                                                           \
    X(BuildInsertElement)                                                                          \
    X(BuildInsertValue)                                                                            \
    X(BuildIntCast2)                                                                               \
    X(BuildIsNotNull)                                                                              \
    X(BuildIsNull)                                                                                 \
    X(BuildLShr)                                                                                   \
    X(BuildLoad2)                                                                                  \
    X(BuildMul)                                                                                    \
    X(BuildNeg)                                                                                    \
    X(BuildNot)                                                                                    \
    X(BuildOr)                                                                                     \
    X(BuildPhi)                                                                                    \
    X(BuildPtrToInt)                                                                               \
    X(BuildRet)                                                                                    \
    X(BuildRetVoid)                                                                                \
    X(BuildSDiv)                                                                                   \
    X(BuildSExt)                                                                                   \
    X(BuildSIToFP)                                                                                 \
    X(BuildSRem)                                                                                   \
    X(BuildSelect)                                                                                 \
    X(BuildShl)                                                                                    \
    X(BuildShuffleVector)                                                                          \
    X(BuildStore)                                                                                  \
    X(BuildSub)                                                                                    \
    X(BuildSwitch)                                                                                 \
    X(BuildTrunc)                                                                                  \
    X(BuildUDiv)                                                                                   \
    X(BuildUIToFP)                                                                                 \
    X(BuildURem)                                                                                   \
    X(BuildUnreachable)                                                                            \
    X(BuildXor)                                                                                    \
    X(BuildZExt)                                                                                   \
    X(ConstAllOnes)                                                                                \
    X(ConstBitCast)                                                                                \
    X(ConstInt)                                                                                    \
    X(ConstNull)                                                                                   \
    X(ConstPointerNull)                                                                            \
    X(ConstReal)                                                                                   \
    X(ConstVector)                                                                                 \
    X(CreateEnumAttribute)                                                                         \
    X(ContextCreate)                                                                               \
    X(ContextDispose)                                                                              \
    X(CreateBuilderInContext)                                                                      \
    X(CreatePassBuilderOptions)                                                                    \
    X(CreateTargetDataLayout)                                                                      \
    X(CreateTargetMachine)                                                                         \
    X(DisposeBuilder)                                                                              \
    X(DisposeErrorMessage)                                                                         \
    X(DisposeMemoryBuffer)                                                                         \
    X(DisposeMessage)                                                                              \
    X(DisposeModule)                                                                               \
    X(DisposePassBuilderOptions)                                                                   \
    X(DisposeTargetData)                                                                           \
    X(DisposeTargetMachine)                                                                        \
    X(DoubleTypeInContext)                                                                         \
    X(FloatTypeInContext)                                                                          \
    X(FunctionType)                                                                                \
    X(GetBufferSize)                                                                               \
    X(GetBufferStart)                                                                              \
    X(GetEnumAttributeKindForName)                                                                 \
    X(GetErrorMessage)                                                                             \
    X(GetFirstFunction)                                                                            \
    X(GetNextFunction)                                                                             \
    X(IsDeclaration)                                                                               \
    X(IsAConstantFP)                                                                               \
    X(IsALoadInst)                                                                                 \
    X(IsAInstruction)                                                                              \
    X(IsAFPExtInst)                                                                                \
    X(IsAPHINode)                                                                                  \
    X(IsACallInst)                                                                                 \
    X(IsConstant)                                                                                  \
    X(ConstRealGetDouble)                                                                          \
    X(GetFirstUse)                                                                                 \
    X(GetNextUse)                                                                                  \
    X(GetNumOperands)                                                                              \
    X(GetOperand)                                                                                  \
    X(GetInstructionOpcode)                                                                        \
    X(GetInlineAsm)                                                                                \
    X(GetInsertBlock)                                                                              \
    X(GetIntTypeWidth)                                                                             \
    X(GetMDKindIDInContext)                                                                        \
    X(GetNamedFunction)                                                                            \
    X(GetParam)                                                                                    \
    X(GetTargetFromTriple)                                                                         \
    X(GetTypeKind)                                                                                 \
    X(GetUndef)                                                                                    \
    X(GetVectorSize)                                                                               \
    X(InitializeX86AsmPrinter)                                                                     \
    X(InitializeX86Target)                                                                         \
    X(InitializeX86TargetInfo)                                                                     \
    X(InitializeX86TargetMC)                                                                       \
    X(Int16TypeInContext)                                                                          \
    X(Int1TypeInContext)                                                                           \
    X(Int32TypeInContext)                                                                          \
    X(Int64TypeInContext)                                                                          \
    X(Int8TypeInContext)                                                                           \
    X(IntTypeInContext)                                                                            \
    X(MDNodeInContext)                                                                             \
    X(ModuleCreateWithNameInContext)                                                               \
    X(PassBuilderOptionsSetLoopUnrolling)                                                          \
    X(PassBuilderOptionsSetLoopVectorization)                                                      \
    X(PassBuilderOptionsSetSLPVectorization)                                                       \
    X(PointerType)                                                                                 \
    X(PositionBuilderAtEnd)                                                                        \
    X(PrintModuleToString)                                                                         \
    X(RunPasses)                                                                                   \
    X(SetAlignment)                                                                                \
    X(SetFunctionCallConv)                                                                         \
    X(SetInstructionCallConv)                                                                      \
    X(SetLinkage)                                                                                  \
    X(SetMetadata)                                                                                 \
    X(SetModuleDataLayout)                                                                         \
    X(SetTarget)                                                                                   \
    X(SetVisibility)                                                                               \
    X(SetVolatile)                                                                                 \
    X(StructTypeInContext)                                                                         \
    X(TargetMachineEmitToMemoryBuffer)                                                             \
    X(TypeOf)                                                                                      \
    X(VectorType)                                                                                  \
    X(VerifyModule)                                                                                \
    X(VoidTypeInContext)

#define WB_LLVM_MEMBER(name) __typeof__(&LLVM##name) name;

typedef struct wb_llvm {
    WB_LLVM_FUNCS(WB_LLVM_MEMBER)
} wb_llvm;

/* The table (loading libLLVM-14.so.1 and initialising the x86 target on the first call); NULL
 * with err naming the Debian package when the library is missing. */
const wb_llvm *wb_llvm_get(wb_error *err);

#endif

/* runtime/nft.h — nftables through libnftables (dlopen'ed on first use, so only the programs
 * that set up networks load it). Commands are nft's own syntax, run as one transaction: all of
 * a batch applies or none does. */
#ifndef WB_RUNTIME_NFT_H
#define WB_RUNTIME_NFT_H

#include "base/error.h"

/* Run `cmds` (newline-separated nft commands) as one batch. The error carries nft's first
 * message line. */
int wb_nft_run(const char *cmds, wb_error *err);

/* Run `cmds` and return nft's output (malloc'd) in *out (e.g. "list table ip wasmbox"). */
int wb_nft_query(const char *cmds, char **out, wb_error *err);

#endif

/* Libraries loaded on first use. libcrypto and libarchive cost milliseconds to load (libarchive
 * pulls in a dozen compression libraries), which every `wasmbox run` would pay; so they are
 * dlopen'ed only by the code paths that need them, and their functions are called through typed
 * tables (each member has the type of the real function, taken from the library's header).
 *
 * Process-wide state (documented exception to "no mutable globals"): each table is filled once,
 * under pthread_once, and is read-only afterwards. */
#ifndef WB_BASE_DYNLIB_H
#define WB_BASE_DYNLIB_H

#include <stdbool.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
/* curl_easy_setopt and friends are called through the table: no type-checking macros */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "base/error.h"

/* The functions of libarchive wasmbox uses. */
#define WB_LIBARCHIVE_FUNCS(X)                                                                     \
    X(archive_error_string)                                                                        \
    X(archive_errno)                                                                               \
    X(archive_read_new)                                                                            \
    X(archive_read_free)                                                                           \
    X(archive_read_support_filter_all)                                                             \
    X(archive_read_support_format_tar)                                                             \
    X(archive_read_support_format_all)                                                             \
    X(archive_read_support_format_raw)                                                             \
    X(archive_read_support_filter_gzip)                                                            \
    X(archive_read_support_filter_zstd)                                                            \
    X(archive_read_support_filter_xz)                                                              \
    X(archive_read_support_filter_bzip2)                                                           \
    X(archive_read_open_filename)                                                                  \
    X(archive_read_open_fd)                                                                        \
    X(archive_read_open_memory)                                                                    \
    X(archive_read_open)                                                                           \
    X(archive_read_next_header)                                                                    \
    X(archive_read_data)                                                                           \
    X(archive_read_data_block)                                                                     \
    X(archive_read_data_skip)                                                                      \
    X(archive_filter_code)                                                                         \
    X(archive_format)                                                                              \
    X(archive_write_new)                                                                           \
    X(archive_write_free)                                                                          \
    X(archive_write_close)                                                                         \
    X(archive_write_set_format_pax_restricted)                                                     \
    X(archive_write_set_format_ustar)                                                              \
    X(archive_write_set_format_raw)                                                                \
    X(archive_write_add_filter_gzip)                                                               \
    X(archive_write_add_filter_none)                                                               \
    X(archive_write_set_bytes_per_block)                                                           \
    X(archive_write_set_bytes_in_last_block)                                                       \
    X(archive_write_set_options)                                                                   \
    X(archive_write_open)                                                                          \
    X(archive_write_open_filename)                                                                 \
    X(archive_write_open_fd)                                                                       \
    X(archive_write_header)                                                                        \
    X(archive_write_data)                                                                          \
    X(archive_write_finish_entry)                                                                  \
    X(archive_entry_new)                                                                           \
    X(archive_entry_free)                                                                          \
    X(archive_entry_clear)                                                                         \
    X(archive_entry_pathname)                                                                      \
    X(archive_entry_set_pathname)                                                                  \
    X(archive_entry_filetype)                                                                      \
    X(archive_entry_set_filetype)                                                                  \
    X(archive_entry_size)                                                                          \
    X(archive_entry_size_is_set)                                                                   \
    X(archive_entry_set_size)                                                                      \
    X(archive_entry_mode)                                                                          \
    X(archive_entry_perm)                                                                          \
    X(archive_entry_set_perm)                                                                      \
    X(archive_entry_mtime)                                                                         \
    X(archive_entry_set_mtime)                                                                     \
    X(archive_entry_symlink)                                                                       \
    X(archive_entry_set_symlink)                                                                   \
    X(archive_entry_hardlink)                                                                      \
    X(archive_entry_set_hardlink)                                                                  \
    X(archive_entry_uid)                                                                           \
    X(archive_entry_gid)                                                                           \
    X(archive_entry_set_uid)                                                                       \
    X(archive_entry_set_gid)                                                                       \
    X(archive_entry_set_uname)                                                                     \
    X(archive_entry_set_gname)                                                                     \
    X(archive_entry_rdev)                                                                          \
    X(archive_entry_set_rdev)

/* The functions of libcrypto wasmbox uses (SHA-256). */
#define WB_LIBCRYPTO_FUNCS(X)                                                                      \
    X(EVP_MD_CTX_new)                                                                              \
    X(EVP_MD_CTX_free)                                                                             \
    X(EVP_sha256)                                                                                  \
    X(EVP_DigestInit_ex)                                                                           \
    X(EVP_DigestUpdate)                                                                            \
    X(EVP_DigestFinal_ex)

/* The functions of libcurl wasmbox uses (the registry client). The variadic setopt/getinfo take
 * exactly the types libcurl documents: long, curl_off_t, pointers. */
#define WB_LIBCURL_FUNCS(X)                                                                        \
    X(curl_easy_init)                                                                              \
    X(curl_easy_cleanup)                                                                           \
    X(curl_easy_reset)                                                                             \
    X(curl_easy_setopt)                                                                            \
    X(curl_easy_getinfo)                                                                           \
    X(curl_easy_perform)                                                                           \
    X(curl_easy_strerror)                                                                          \
    X(curl_easy_escape)                                                                            \
    X(curl_free)                                                                                   \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)                                                                         \
    X(curl_multi_init)                                                                             \
    X(curl_multi_cleanup)                                                                          \
    X(curl_multi_add_handle)                                                                       \
    X(curl_multi_remove_handle)                                                                    \
    X(curl_multi_perform)                                                                          \
    X(curl_multi_poll)                                                                             \
    X(curl_multi_info_read)                                                                        \
    X(curl_multi_strerror)

#define WB_DYNLIB_MEMBER(name) __typeof__(&name) name;

typedef struct wb_libarchive {
    WB_LIBARCHIVE_FUNCS(WB_DYNLIB_MEMBER)
} wb_libarchive;

typedef struct wb_libcrypto {
    WB_LIBCRYPTO_FUNCS(WB_DYNLIB_MEMBER)
} wb_libcrypto;

typedef struct wb_libcurl {
    WB_LIBCURL_FUNCS(WB_DYNLIB_MEMBER)
} wb_libcurl;

/* The tables, loading the library on the first call; NULL with err filled when the library
 * (libarchive13 / libssl3 / libcurl4 from Debian) is missing. Call as `ar->archive_read_new()`.
 * wb_libcurl_get also runs curl_global_init once. */
const wb_libarchive *wb_libarchive_get(wb_error *err);
const wb_libcrypto *wb_libcrypto_get(wb_error *err);
const wb_libcurl *wb_libcurl_get(wb_error *err);

/* False in the static core (build/wasmbox, linked with dynlib.c built -DWB_STATIC_CORE), which
 * can load none of them and hands the commands that need them to wasmbox-full. */
bool wb_dynlib_loadable(void);

#include "base/selfexe.h" /* wb_full_program: the program that can load them */

#endif

/* The wasmbox command line: one file per command (or family), all thin over the library. Exit
 * codes follow Docker: 125 for an error of wasmbox itself in `run`, 1 for a failed command,
 * otherwise the workload's. */
#ifndef WB_CLI_H
#define WB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define WB_EXIT_ENGINE 125
#define WB_EXIT_TRAP   134
#define WB_VERSION     "0.1.0"

/* Commands: argv[0] is the command's own name. */
int wb_cmd_run(int argc, char **argv);
int wb_cmd_run_image(int argc, char **argv);
int wb_cmd_images(int argc, char **argv);
int wb_cmd_image_inspect(int argc, char **argv);
int wb_cmd_rmi(int argc, char **argv);
int wb_cmd_tag(int argc, char **argv);
int wb_cmd_image_prune(int argc, char **argv);
int wb_cmd_build(int argc, char **argv);
int wb_cmd_save(int argc, char **argv);
int wb_cmd_load(int argc, char **argv);
int wb_cmd_import(int argc, char **argv);
int wb_cmd_export_wasm(int argc, char **argv);
int wb_cmd_create(int argc, char **argv);
int wb_cmd_ps(int argc, char **argv);
int wb_cmd_logs(int argc, char **argv);
int wb_cmd_stop(int argc, char **argv);
int wb_cmd_kill(int argc, char **argv);
int wb_cmd_rm(int argc, char **argv);
int wb_cmd_wait(int argc, char **argv);
int wb_cmd_start(int argc, char **argv);
int wb_cmd_exec(int argc, char **argv);
int wb_cmd_pause(int argc, char **argv); /* pause and unpause (argv[0] says which) */
int wb_cmd_top(int argc, char **argv);
int wb_cmd_diff(int argc, char **argv);
int wb_cmd_commit(int argc, char **argv);
/* `volume` and `network` subcommands (management groups in main.c) */
int wb_cmd_volume_create(int argc, char **argv);
int wb_cmd_volume_ls(int argc, char **argv);
int wb_cmd_volume_inspect(int argc, char **argv);
int wb_cmd_volume_rm(int argc, char **argv);
int wb_cmd_volume_prune(int argc, char **argv);
int wb_cmd_network_create(int argc, char **argv);
int wb_cmd_network_ls(int argc, char **argv);
int wb_cmd_network_inspect(int argc, char **argv);
int wb_cmd_network_rm(int argc, char **argv);
int wb_cmd_network_prune(int argc, char **argv);
int wb_cmd_network_connect(int argc, char **argv);
int wb_cmd_network_disconnect(int argc, char **argv);
int wb_cmd_port(int argc, char **argv);
int wb_cmd_cp(int argc, char **argv);
int wb_cmd_export(int argc, char **argv);
int wb_cmd_inspect(int argc, char **argv);
int wb_cmd_container_inspect(int argc, char **argv);
int wb_cmd_container_prune(int argc, char **argv);
int wb_cmd_stats(int argc, char **argv);
int wb_cmd_pull(int argc, char **argv);
int wb_cmd_push(int argc, char **argv);
int wb_cmd_login(int argc, char **argv);
int wb_cmd_logout(int argc, char **argv);
int wb_cmd_buildx_build(int argc, char **argv);
int wb_cmd_buildx_ls(int argc, char **argv);
int wb_cmd_buildx_version(int argc, char **argv);
int wb_cmd_compose(int argc, char **argv); /* src/cli/compose.c */
int wb_cmd_oci(int argc, char **argv);     /* src/cli/oci.c: runc-compatible (wasmbox-runc) */
int wb_cmd_shim(int argc, char **argv);    /* src/cli/shim_install.c: `shim install` */
int wb_cmd_compile(int argc, char **argv); /* src/cli/compile.c: the native-code cache */

/* The help of `run` (create false) or `create`: every flag src/cli/run_opts.c parses. */
void wb_cli_run_usage(FILE *out, bool create);

/* The static core (build/wasmbox) and wasmbox-full (docs/binaries.md). wb_cli_is_core: this is
 * the core, which loads no library. wb_cli_handoff execs wasmbox-full (beside this executable)
 * with main's argv, saved by wb_cli_handoff_init; it returns only on failure, with the error
 * printed and 125. `what` names the need in that error ("pull"). */
void wb_cli_handoff_init(char **argv);
bool wb_cli_is_core(void);
int wb_cli_handoff(const char *what);
/* Whether wasmbox-full is beside this program (the static core's hand-off target). */
bool wb_cli_full_available(void);

/* `inspect` of an image: the inspect document of the image `name` (a new reference), or NULL
 * with err set (ENOENT: "No such image: NAME"). The store is opened at the first call and kept
 * in *store for the next ones; wb_cli_image_store_close closes it (NULL: nothing to do). */
struct wb_images;
struct json_t;
struct wb_error;
struct json_t *wb_cli_image_inspect_doc(struct wb_images **store, const char *name,
                                        struct wb_error *err);
void wb_cli_image_store_close(struct wb_images *store);

/* A container by ID, ID prefix or name, its stale "running" state corrected; NULL after printing
 * Docker's "Error: No such container: REF" (or what else failed). The caller frees it. */
struct wb_container;
struct wb_container *wb_cli_open_container(const char *ref);
/* The fields of a `ps` row of c (`ps --format json`'s names: ID, Image, Command, RunningFor,
 * Status, State, Ports, Names, ...); a new reference. */
struct json_t *wb_cli_ps_row(const struct wb_container *c, bool no_trunc);

/* The store root for this invocation: --root, else $WASMBOX_ROOT, else the default. */
const char *wb_cli_root(void);
/* After `build`, `pull`, `load`, `import`: compile the Wasm module of the image `ref` (a full
 * name or an ID) to native code (runtime/precompile.h), with a progress line on a terminal unless
 * quiet. */
struct wb_images;
void wb_cli_precompile(struct wb_images *s, const char *ref, bool quiet);

/* `logs --since`: "2013-01-02T13:23:37Z", unix seconds, or relative ("42m"): unix seconds. */
int64_t wb_cli_parse_since(const char *v);

/* Print "Error: ..." (one line) to stderr. */
void wb_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Docker's human-readable forms: "13.3kB", "5.2MB"; "2 minutes", "About an hour". */
void wb_cli_human_size(uint64_t bytes, char *buf, size_t size);
void wb_cli_human_duration(int64_t seconds, char *buf, size_t size);

#endif

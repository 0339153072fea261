/* compose/normalize.h — one Compose file's JSON (yaml.c's output, already interpolated) checked
 * and put in the canonical ("long") form that merge.c, plan and `compose config` work on. It owns
 * nothing past the call: the result is a new JSON tree.
 *
 * The canonical model (compose-go's, as `docker compose config --format json` prints it, with
 * the differences stated). Keys absent from the file stay absent; nothing is defaulted here
 * except where said.
 *
 * Top level: `name` (string), `services` {NAME: service} (absent or null → {}), `networks`,
 * `volumes`, `configs`, `secrets` {KEY: object or {} for a null value; a null section → {}},
 * `x-*` kept as they are; `include` and `models` kept with the "not supported" warning. An
 * empty file (a null root) is the error "FILE: empty compose file", any other non-mapping root
 * "FILE: Top-level object must be a mapping". `version` is dropped with the warning "`version`
 * is obsolete" (compose v2's text: "FILE: the attribute `version` is obsolete, it will be
 * ignored, please remove it to avoid potential confusion").
 *  - networks.K: {name?, driver?, driver_opts? {K: string}, external? bool, internal? bool,
 *    attachable? bool, labels? {K: string}, ipam? {driver?, config? [{subnet?, gateway?,
 *    ip_range?}]}}
 *  - volumes.K: {name?, driver?, driver_opts?, external? bool, labels?}
 *  - configs.K / secrets.K: {name?, file? (absolute), environment?, content?, external? bool}
 *  - the deprecated `external: {name: X}` becomes `name: X` (unless a name is given) and
 *    `external: true`, with compose-go's warning "PATH: external.name is deprecated, please set
 *    name and external: true".
 *
 * A service (each key only when the file has it):
 *  - strings: image, platform, runtime, container_name, hostname, domainname, user,
 *    working_dir, stop_signal, pull_policy (always|never|missing|build|if_not_present→missing),
 *    network_mode, restart (no|always|on-failure[:N]|unless-stopped; YAML `no` unquoted is the
 *    string "no" already), ipc, pid, cgroup_parent, mac_address, shm_size (as a byte count:
 *    integer) — a number or boolean where a string is wanted is an error, as compose-go's schema
 *    ("services.web.image must be a string").
 *  - booleans: init, tty, stdin_open, read_only, privileged, oom_kill_disable. Wherever a
 *    boolean is wanted, the strings compose-go's interpolation casts are accepted too (y, yes,
 *    true, on / n, no, false, off, in any case: `${DEBUG}` gives a string).
 *  - integers: scale (not negative), pids_limit, cpu_shares, mem_swappiness, oom_score_adj.
 *    Wherever an integer is wanted, a string of a decimal integer ("3") and an integral real
 *    are accepted too.
 *  - `cpus`: a number (string "0.5" accepted); `mem_limit`, `mem_reservation`, `memswap_limit`:
 *    integers in bytes ("512m", "1g", "1.5GB", 1024: Docker's units, 1k = 1024).
 *  - `stop_grace_period`: a duration string as written ("1m30s", "10s"), checked.
 *  - build: a string is {context}; the long form {context (none given: none here; model.c
 *    makes it the project directory after the merge, so that an override's `build: {args}`
 *    keeps the base's context), dockerfile,
 *    dockerfile_inline, args {K: string|null} (list "K=V"/"K" form too), target, platforms
 *    [...], labels {K: string} (list form too), no_cache bool, pull bool, network, cache_from
 *    [...], extra_hosts [...], shm_size}. `context` is made absolute against `workdir` unless it
 *    is a URL (contains "://" or starts with "git@"); `dockerfile` stays as written.
 *  - command, entrypoint: arrays of strings; a string is split as a POSIX shell splits words
 *    (quotes and backslashes; no expansion), compose-go's shellwords; null stays null; [] stays;
 *    "" is []. Unlike shellwords, `;`, `&`, `|`, `<` and `>` are ordinary characters (shellwords
 *    silently drops everything from the first of them: `a && b` would be ["a"]); inside double
 *    quotes a backslash escapes only $ ` " \ and newline, as in POSIX.
 *  - environment: {K: string|null}; the list form "K=V" → "V", "K" → null; map values that are
 *    numbers/booleans become their YAML text (true → "true", 1.5 → "1.5"), null stays null.
 *  - env_file: [{path (absolute), required bool (default true), format?}]; a string or a list
 *    of strings gives entries with required true.
 *  - labels, annotations: {K: string} (list "K=V" form, "K" alone → "").
 *  - ports: an array of {target int, published string (absent when not given), host_ip string
 *    (absent when not given), protocol string (default "tcp"), mode string (default
 *    "ingress"), name?, app_protocol?}. Short form "[IP:][HOST:]CONTAINER[/PROTO]" (IPv6 IPs
 *    in brackets), also a bare number; ranges "8000-8002:80-82" expand to one entry per port
 *    (a host range against a single container port keeps the range as published); a number
 *    in the long form's `published` becomes a string, an empty one is dropped. Short-form
 *    entries have compose-go's key order (mode, host_ip, target, published, protocol) and come
 *    in port order (compose-go sorts them as strings: "100" before "99"); one service's ports
 *    may expand to at most 65536 entries.
 *  - expose: array of strings ("80", "8000-8010/udp"; numbers become strings).
 *  - volumes: an array of {type bind|volume|tmpfs|npipe|image|cluster, source?, target,
 *    read_only? (only when true), consistency?, bind? {propagation?, create_host_path bool,
 *    selinux?}, volume? {nocopy bool, subpath?}, tmpfs? {size int, mode int}}. Short form
 *    "SRC:DST[:MODE]", "DST" (anonymous volume): a SRC starting with '.', '/' or '~' is a bind
 *    (made absolute against workdir, '~' against $HOME) with bind.create_host_path true, other
 *    SRC a named volume; MODE a comma list of ro|rw|z|Z|nocopy|shared|slave|private|rshared|
 *    rslave|rprivate|cached|delegated|consistent (ro → read_only, nocopy → volume.nocopy, z|Z →
 *    bind.selinux, the propagations → bind.propagation, the last three → consistency). As in
 *    compose-go, a short DST is cleaned ("/a/../b/" → "/b") and named and anonymous volumes get
 *    `volume: {}`. Long-form relative bind sources are made absolute too ('~' included). A
 *    named-volume source must be a key of the top-level `volumes` — checked by the loader
 *    after merge, not here.
 *  - tmpfs, dns, dns_search, dns_opt, cap_add, cap_drop, security_opt, profiles, devices,
 *    group_add, external_links, links, volumes_from: arrays of strings (a single string → [s]).
 *  - extra_hosts: array of "HOST:IP" strings (map form {HOST: IP} → "HOST:IP", {HOST: [IP, ...]}
 *    one entry per IP; "HOST=IP" → "HOST:IP"; an IPv6 IP is kept as written).
 *  - networks: {NET: null | {aliases? [...], ipv4_address?, ipv6_address?, priority?,
 *    mac_address?}}; the list form ["a", "b"] → {a: null, b: null}.
 *  - depends_on: {SVC: {condition (default service_started), required bool (default true),
 *    restart bool (default false)}}; the list form → those defaults.
 *  - healthcheck: {test [..], interval, timeout, start_period, start_interval (duration
 *    strings as written, checked), retries int, disable bool}; a string test is
 *    ["CMD-SHELL", s]; a list test must start with NONE, CMD or CMD-SHELL.
 *  - deploy: {replicas int, resources {limits {cpus string, memory int bytes, pids int},
 *    reservations {...same}}, restart_policy {...}, labels {...}, mode...} kept, with
 *    resources' `memory` in bytes and `cpus` as a string of the number.
 *  - ulimits: {NAME: {soft int, hard int}} (an integer → soft = hard = it).
 *  - secrets, configs: arrays of {source, target?, uid?, gid?, mode?}; a string → {source}.
 *  - extends: {service, file?}; a string → {service}. Left for merge.c to resolve; `file` is
 *    kept as written (merge.c resolves it against the extending file's directory).
 *  - logging, sysctls, storage_opt, develop, post_start, pre_stop and the other keys of the
 *    schema that wasmbox does not use: kept as they are (sysctls in the {K: string} form, as
 *    merge.c merges it by key), with the warning
 *    "services.NAME.KEY: not supported by wasmbox, ignored" (x-* keys silently kept). The
 *    build keys not listed above (ssh, secrets, tags, ...) get the same warning.
 *  - any key the spec does not have: the warning "services.NAME: unknown key KEY, ignored",
 *    and the key dropped (at the top level: "unknown key KEY, ignored"); the same in every
 *    mapping the spec describes (build, healthcheck, a long-form port or volume, ...), whose
 *    x-* keys are kept.
 *  - a value tagged `!reset` (yaml.h) is kept as it is, unchecked: merge.c removes the key
 *    whatever its value (`image: !reset null`).
 *
 * Errors: the first one found, with err->code EINVAL and the message
 *    FILE:LINE: PATH: WHAT
 * where PATH is the YAML path of the offending value as yaml.h writes it
 * (`services.server.ports[0]`) and LINE wb_yaml_line of it (the nearest ancestor with a line
 * when the path has none; "FILE: PATH: WHAT" when none). WHAT follows compose-go's words where it
 * has them: `invalid port "80a"` ... (see the unit tests for the list). Among them: a service
 * that is not a mapping ("services.web must be a mapping"), `services` not a mapping, a
 * service without image and build ("has neither an image nor a build context specified" —
 * checked by the loader after merge, not here), network_mode together with networks
 * ("'network_mode' and 'networks' cannot be combined"), an unknown depends_on condition, a
 * bad restart policy, a bad duration, a bad byte size, a negative scale, a bad
 * healthcheck.test, a port out of 1..65535, a protocol other than tcp/udp/sctp, a volume
 * target that is not absolute, a bad volume mode, a service name that is not
 * [a-zA-Z0-9][a-zA-Z0-9_.-]*.
 *
 * Warnings go to `warn` (may be NULL), one complete line each, without "WARN[0000]" prefixes,
 * placed as errors are: "FILE:LINE: PATH: WHAT" (for an unknown key, LINE is the key's and PATH
 * the mapping's), except the `version` one, which is compose v2's text. */
#ifndef WB_COMPOSE_NORMALIZE_H
#define WB_COMPOSE_NORMALIZE_H

#include <jansson.h>

#include "base/error.h"
#include "compose/yaml.h"

typedef void (*wb_compose_warn_fn)(void *ctx, const char *line);

/* Normalise `file` (borrowed; not changed) read from `filename` (for messages; doc gives the
 * lines, may be NULL). `workdir` is the absolute directory relative paths start from (the
 * project directory for the main files, the file's own directory for a file named by
 * `extends.file`). On success returns 0 with *out a new tree; on failure -1 and err. */
int wb_compose_normalize(const json_t *file, const wb_yaml_doc *doc, const char *filename,
                         const char *workdir, wb_compose_warn_fn warn, void *ctx, json_t **out,
                         wb_error *err);

/* Docker's byte sizes ("512m", "1g", "1.5GB", "100"; 1k = 1024): 0 and the value, -1 if bad. */
int wb_compose_parse_bytes(const char *s, long long *out);
/* Go durations ("1m30s", "1.5s", "300ms", "2h", "0"; a bare number other than 0 is Go's
 * "missing unit in duration") into nanoseconds: 0, or -1 if bad. */
int wb_compose_parse_duration(const char *s, long long *out_ns);
/* POSIX shell word splitting without expansion (compose-go's shellwords): a NULL-terminated
 * malloc'd array of malloc'd words (free with wb_compose_words_free), or NULL with err
 * ("invalid command line string" for an unterminated quote). */
char **wb_compose_split_words(const char *s, wb_error *err);
void wb_compose_words_free(char **w);

#endif

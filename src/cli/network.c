/* `wasmbox network create|ls|inspect|rm|prune|connect|disconnect`, thin over
 * runtime/network.h. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/format.h"
#include "runtime/container.h"
#include "runtime/network.h"

static const wb_cli_flag create_flags[] = {
    {'d', "driver", "string", "Driver to manage the Network (default \"bridge\")", false},
    {0, "gateway", "strings", "IPv4 Gateway for the master subnet", false},
    {0, "internal", NULL, "Restrict external access to the network", false},
    {0, "label", "list", "Set metadata on a network", false},
    {'o', "opt", "map", "Set driver specific options", false},
    {0, "subnet", "strings", "Subnet in CIDR format that represents a network segment", false},
    {0},
};
static const wb_cli_command create_cmd = {"network create", "[OPTIONS] NETWORK", "Create a network",
                                          create_flags, false};
static const wb_cli_flag ls_flags[] = {
    {0, "format", "string", WB_CLI_LIST_FORMAT_HELP, false},
    {0, "no-trunc", NULL, "Do not truncate the output", false},
    {'q', "quiet", NULL, "Only display network IDs", false},
    {0},
};
static const wb_cli_command ls_cmd = {"network ls", "[OPTIONS]", "List networks", ls_flags, false};
static const wb_cli_flag inspect_flags[] = {
    {'f', "format", "string", WB_CLI_INSPECT_FORMAT_HELP, false},
    {0},
};
static const wb_cli_command inspect_cmd = {"network inspect", "[OPTIONS] NETWORK [NETWORK...]",
                                           "Display detailed information on one or more networks",
                                           inspect_flags, false};
static const wb_cli_flag rm_flags[] = {
    {'f', "force", NULL, "Do not error if the network does not exist", false},
    {0},
};
static const wb_cli_command rm_cmd = {"network rm", "NETWORK [NETWORK...]",
                                      "Remove one or more networks", rm_flags, false};
static const wb_cli_flag prune_flags[] = {
    {'f', "force", NULL, "Do not prompt for confirmation", false},
    {0},
};
static const wb_cli_command prune_cmd = {"network prune", "[OPTIONS]", "Remove all unused networks",
                                         prune_flags, false};

static const wb_cli_flag connect_flags[] = {
    {0, "alias", "strings", "Add network-scoped alias for the container", false},
    {0, "ip", "string", "IPv4 address (e.g., \"172.30.100.104\")", false},
    {0},
};
static const wb_cli_command connect_cmd = {"network connect", "[OPTIONS] NETWORK CONTAINER",
                                           "Connect a container to a network", connect_flags,
                                           false};
static const wb_cli_flag disconnect_flags[] = {
    {'f', "force", NULL, "Force the container to disconnect from a network", false},
    {0},
};
static const wb_cli_command disconnect_cmd = {"network disconnect", "[OPTIONS] NETWORK CONTAINER",
                                              "Disconnect a container from a network",
                                              disconnect_flags, false};

/* Docker's words for a network that is not there ("network X not found" is run's) */
static void no_such(const char *name, const wb_error *err) {
    if (err->code == ENOENT)
        wb_cli_error("No such network: %s", name);
    else
        wb_cli_error("%s", err->msg);
}

static size_t nth_all(wb_cli_args *a, const char *flag, char **out) {
    size_t n = 0;
    for (const char *l; n < WB_CLI_MAX_GIVEN && (l = wb_cli_flag_nth(a, flag, (int)n));)
        out[n++] = (char *)l;
    return n;
}

int wb_cmd_network_create(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&create_cmd, argc, argv, &a, &rc) < 0) return rc;
    if (a.npos != 1) {
        wb_cli_error("\"wasmbox network create\" requires exactly 1 argument.");
        wb_cli_args_release(&a);
        return 1;
    }
    char *labels[WB_CLI_MAX_GIVEN], *opts[WB_CLI_MAX_GIVEN];
    wb_network_opts o = {
        .name = a.pos[0],
        .driver = wb_cli_flag_value(&a, "driver"),
        .subnet = wb_cli_flag_value(&a, "subnet"),
        .gateway = wb_cli_flag_value(&a, "gateway"),
        .internal = wb_cli_flag_set(&a, "internal"),
        .labels = labels,
        .nlabels = nth_all(&a, "label", labels),
        .options = opts,
        .noptions = nth_all(&a, "opt", opts),
    };
    char id[65];
    wb_error err;
    rc = 1;
    if (wb_network_create(wb_cli_root(), &o, id, &err) < 0) {
        wb_cli_error("%s", err.msg);
    } else {
        printf("%s\n", id);
        rc = 0;
    }
    wb_cli_args_release(&a);
    return rc;
}

/* The predefined modes, listed as Docker lists them (never stored). */
static json_t *mode_record(const char *name) {
    char id[65];
    uint64_t h = 1469598103934665603ULL; /* stable per name (FNV-1a, stretched) */
    for (int k = 0; k < 4; k++) {
        for (const char *p = name; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ULL;
        h = (h ^ (uint64_t)k) * 1099511628211ULL;
        snprintf(id + 16 * k, 17, "%016llx", (unsigned long long)h);
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:n, s:[]}, s:b, s:b, s:b, s:{},"
                     " s:{}, s:{}}",
                     "Name", name, "Id", id, "Created", "0001-01-01T00:00:00Z", "Scope", "local",
                     "Driver", !strcmp(name, "host") ? "host" : "null", "EnableIPv6", 0, "IPAM",
                     "Driver", "default", "Options", "Config", "Internal", 0, "Attachable", 0,
                     "Ingress", 0, "Containers", "Options", "Labels");
}

/* A record with its Containers filled (those with an address on it now). */
static json_t *with_containers(json_t *r) {
    char **ids;
    size_t n;
    json_t *cs = json_object();
    const char *nid = json_string_value(json_object_get(r, "Id"));
    if (nid && wb_network_users(wb_cli_root(), nid, &ids, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            wb_container *c;
            if (wb_container_open(wb_cli_root(), ids[i], &c, NULL) == 0) {
                const json_t *ep = json_object_get(
                    json_object_get(json_object_get(c->doc, "NetworkSettings"), "Networks"),
                    json_string_value(json_object_get(r, "Name")));
                char addr[64];
                snprintf(addr, sizeof addr, "%s/%lld",
                         json_string_value(json_object_get(ep, "IPAddress")) ?: "",
                         (long long)json_integer_value(json_object_get(ep, "IPPrefixLen")));
                json_object_set_new(
                    cs, c->id,
                    json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name", c->name, "EndpointID", c->id,
                              "MacAddress",
                              json_string_value(json_object_get(ep, "MacAddress")) ?: "",
                              "IPv4Address", addr, "IPv6Address", ""));
                wb_container_free(c);
            }
            free(ids[i]);
        }
        free(ids);
    }
    json_object_set_new(r, "Containers", cs);
    return r;
}

static const wb_cli_column ls_columns[] = {
    {"ID", "NETWORK ID"}, {"Name", "NAME"}, {"Driver", "DRIVER"}, {"Scope", "SCOPE"}};

int wb_cmd_network_ls(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&ls_cmd, argc, argv, &a, &rc) < 0) return rc;
    wb_error err;
    json_t *bridge = wb_network_find(wb_cli_root(), WB_NETWORK_DEFAULT, &err); /* made once */
    json_decref(bridge);
    json_t *list = wb_network_list(wb_cli_root(), &err);
    if (!list) {
        wb_cli_error("%s", err.msg);
        wb_cli_args_release(&a);
        return 1;
    }
    json_array_append_new(list, mode_record("host"));
    json_array_append_new(list, mode_record("none"));
    bool quiet = wb_cli_flag_set(&a, "quiet"), full = wb_cli_flag_set(&a, "no-trunc");
    wb_cli_list out;
    wb_cli_list_init(&out, wb_cli_flag_value(&a, "format"),
                     "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", ls_columns,
                     sizeof ls_columns / sizeof *ls_columns);
    rc = 0;
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r) {
        char id[65];
        snprintf(id, sizeof id, full ? "%s" : "%.12s", json_string_value(json_object_get(r, "Id")));
        if (quiet) {
            printf("%s\n", id);
            continue;
        }
        json_t *row = json_pack("{s:s, s:s, s:s, s:s}", "ID", id, "Name",
                                json_string_value(json_object_get(r, "Name")), "Driver",
                                json_string_value(json_object_get(r, "Driver")), "Scope", "local");
        if (wb_cli_list_row(&out, row, &err) < 0) rc = 1;
        json_decref(row);
    }
    if (!quiet && rc == 0 && wb_cli_list_print(&out, stdout, &err) < 0) rc = 1;
    if (rc) wb_cli_error("template parsing error: %s", err.msg);
    wb_cli_list_release(&out);
    json_decref(list);
    wb_cli_args_release(&a);
    return rc;
}

int wb_cmd_network_inspect(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&inspect_cmd, argc, argv, &a, &rc) < 0) return rc;
    if (a.npos < 1) {
        wb_cli_error("\"wasmbox network inspect\" requires at least 1 argument.");
        wb_cli_args_release(&a);
        return 1;
    }
    json_t *all = json_array();
    rc = 0;
    for (int i = 0; i < a.npos; i++) {
        wb_error err;
        if (!strcmp(a.pos[i], "host") || !strcmp(a.pos[i], "none")) {
            json_array_append_new(all, mode_record(a.pos[i]));
            continue;
        }
        json_t *r = wb_network_find(wb_cli_root(), a.pos[i], &err);
        if (!r) {
            no_such(a.pos[i], &err);
            rc = 1;
            continue;
        }
        json_array_append_new(all, with_containers(r));
    }
    wb_error err;
    if (wb_cli_inspect_print(wb_cli_flag_value(&a, "format"), all, stdout, &err) < 0) {
        wb_cli_error("template parsing error: %s", err.msg);
        rc = 1;
    }
    json_decref(all);
    wb_cli_args_release(&a);
    return rc;
}

int wb_cmd_network_rm(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&rm_cmd, argc, argv, &a, &rc) < 0) return rc;
    if (wb_cli_is_core()) { /* the bridge's rules: libnftables */
        wb_cli_args_release(&a);
        return wb_cli_handoff("removing networks");
    }
    if (a.npos < 1) {
        wb_cli_error("\"wasmbox network rm\" requires at least 1 argument.");
        wb_cli_args_release(&a);
        return 1;
    }
    rc = 0;
    for (int i = 0; i < a.npos; i++) {
        wb_error err;
        if (wb_network_remove(wb_cli_root(), a.pos[i], &err) < 0) {
            if (err.code == ENOENT && wb_cli_flag_set(&a, "force")) continue;
            no_such(a.pos[i], &err);
            rc = 1;
        } else {
            printf("%s\n", a.pos[i]);
        }
    }
    wb_cli_args_release(&a);
    return rc;
}

int wb_cmd_network_prune(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&prune_cmd, argc, argv, &a, &rc) < 0) return rc;
    if (wb_cli_is_core()) {
        wb_cli_args_release(&a);
        return wb_cli_handoff("removing networks");
    }
    if (!wb_cli_flag_set(&a, "force") && isatty(STDIN_FILENO)) {
        fputs("WARNING! This will remove all custom networks not used by at least one container.\n"
              "Are you sure you want to continue? [y/N] ",
              stdout);
        fflush(stdout);
        char line[16];
        if (!fgets(line, sizeof line, stdin) || (line[0] != 'y' && line[0] != 'Y')) {
            wb_cli_args_release(&a);
            return 0;
        }
    }
    char **names;
    size_t n;
    wb_error err;
    if (wb_network_prune(wb_cli_root(), &names, &n, &err) < 0) {
        wb_cli_error("%s", err.msg);
        wb_cli_args_release(&a);
        return 1;
    }
    if (n) puts("Deleted Networks:");
    for (size_t i = 0; i < n; i++) {
        puts(names[i]);
        free(names[i]);
    }
    free(names);
    wb_cli_args_release(&a);
    return 0;
}

/* connect and disconnect: NETWORK CONTAINER; the record saved after the runtime's change. */
static int connect_or_disconnect(int argc, char **argv, bool connect) {
    wb_cli_args a;
    int rc;
    const wb_cli_command *cmd = connect ? &connect_cmd : &disconnect_cmd;
    if (wb_cli_parse_cmd(cmd, argc, argv, &a, &rc) < 0) return rc;
    if (a.npos != 2) {
        wb_cli_error("\"wasmbox %s\" requires exactly 2 arguments.", cmd->name);
        wb_cli_args_release(&a);
        return 1;
    }
    wb_error err;
    wb_container *c = NULL;
    rc = 1;
    if (wb_container_open(wb_cli_root(), a.pos[1], &c, &err) < 0) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    int r;
    if (connect) {
        char *aliases[WB_CLI_MAX_GIVEN];
        size_t n = nth_all(&a, "alias", aliases);
        r = wb_net_connect(c, a.pos[0], aliases, n, wb_cli_flag_value(&a, "ip"), &err);
    } else {
        r = wb_net_disconnect(c, a.pos[0], &err);
    }
    if (r < 0) {
        if (err.code == ENOENT && strstr(err.msg, "not found"))
            no_such(a.pos[0], &err);
        else
            wb_cli_error("%s", err.msg);
        goto out;
    }
    if (wb_container_save(c, &err) < 0) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    rc = 0;
out:
    if (c) wb_container_free(c);
    wb_cli_args_release(&a);
    return rc;
}

int wb_cmd_network_connect(int argc, char **argv) {
    return connect_or_disconnect(argc, argv, true);
}

int wb_cmd_network_disconnect(int argc, char **argv) {
    return connect_or_disconnect(argc, argv, false);
}

/* `port CONTAINER [PRIVATE_PORT[/PROTO]]`: the container's published ports, as Docker prints them.
 */
static const wb_cli_command port_cmd = {
    "port", "CONTAINER [PRIVATE_PORT[/PROTO]]",
    "List port mappings or a specific mapping for the container", NULL, false};

int wb_cmd_port(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&port_cmd, argc, argv, &a, &rc) < 0) return rc;
    if (a.npos < 1 || a.npos > 2) {
        wb_cli_error("\"wasmbox port\" requires at least 1 and at most 2 arguments.");
        wb_cli_args_release(&a);
        return 1;
    }
    wb_container *c = wb_cli_open_container(a.pos[0]);
    if (!c) {
        wb_cli_args_release(&a);
        return 1;
    }
    char want[64] = "";
    if (a.npos == 2)
        snprintf(want, sizeof want, "%s%s", a.pos[1], strchr(a.pos[1], '/') ? "" : "/tcp");
    const json_t *ports = json_object_get(json_object_get(c->doc, "NetworkSettings"), "Ports");
    const char *key;
    json_t *list;
    bool found = false;
    json_object_foreach((json_t *)ports, key, list) {
        if (want[0] && strcmp(key, want) != 0) continue;
        size_t i;
        json_t *b;
        json_array_foreach(list, i, b) {
            const char *ip = json_string_value(json_object_get(b, "HostIp"));
            const char *hp = json_string_value(json_object_get(b, "HostPort"));
            if (want[0])
                printf("%s:%s\n", ip ? ip : "", hp ? hp : "");
            else
                printf("%s -> %s:%s\n", key, ip ? ip : "", hp ? hp : "");
            found = true;
        }
    }
    rc = 0;
    if (want[0] && !found) {
        wb_cli_error("No public port '%s' published for %s", want, a.pos[0]);
        rc = 1;
    }
    wb_container_free(c);
    wb_cli_args_release(&a);
    return rc;
}

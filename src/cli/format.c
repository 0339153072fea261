#include "cli/format.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/timeutil.h"
#include "cli/gotemplate.h"
#include "cli/table.h"

/* Docker: a format starting with "table" is a table (the rest is the row template, spaces
 * trimmed); exactly "json" is `{{json .}}` per row. */
void wb_cli_list_init(wb_cli_list *l, const char *format, const char *default_table,
                      const wb_cli_column *columns, size_t ncolumns) {
    memset(l, 0, sizeof *l);
    if (!format || !*format || !strcmp(format, "table")) format = default_table;
    const char *t = format;
    if (!strncmp(format, "table", 5)) {
        l->table = true;
        t += 5;
    } else if (!strcmp(format, "json")) {
        t = "{{json .}}";
    }
    while (*t == ' ') t++;
    size_t n = strlen(t);
    while (n && t[n - 1] == ' ') n--;
    l->tmpl = wb_strndup(t, n);
    l->titles = json_object();
    for (size_t i = 0; i < ncolumns; i++)
        json_object_set_new(l->titles, columns[i].field, json_string(columns[i].title));
    l->rows = open_memstream(&l->buf, &l->len);
}

int wb_cli_list_row(wb_cli_list *l, const json_t *row, wb_error *err) {
    if (wb_gotemplate_render(l->tmpl, row, l->rows, err) < 0) return -1;
    fputc('\n', l->rows);
    return 0;
}

int wb_cli_list_print(wb_cli_list *l, FILE *out, wb_error *err) {
    fflush(l->rows);
    if (!l->table) {
        fwrite(l->buf, 1, l->len, out);
        return 0;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *all = open_memstream(&text, &len);
    int rc = wb_gotemplate_render_header(l->tmpl, l->titles, all, err);
    fputc('\n', all);
    fwrite(l->buf, 1, l->len, all);
    fclose(all);
    if (rc == 0) wb_cli_table_print(text, len, out);
    free(text);
    return rc;
}

void wb_cli_list_release(wb_cli_list *l) {
    if (l->rows) fclose(l->rows);
    free(l->buf);
    free(l->tmpl);
    json_decref(l->titles);
    memset(l, 0, sizeof *l);
}

int wb_cli_inspect_print(const char *format, const json_t *docs, FILE *out, wb_error *err) {
    if (!format || !*format || !strcmp(format, "json")) {
        bool compact = format && *format;
        char *text = json_dumps(docs, (compact ? JSON_COMPACT : JSON_INDENT(4)) |
                                          JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        fprintf(out, "%s\n", text ? text : "[]");
        free(text);
        return 0;
    }
    /* each document's line is kept until all rendered: a template error prints nothing */
    char *text = NULL;
    size_t len = 0;
    FILE *buf = open_memstream(&text, &len);
    int rc = 0;
    for (size_t i = 0; i < json_array_size(docs) && rc == 0; i++) {
        rc = wb_gotemplate_render(format, json_array_get(docs, i), buf, err);
        fputc('\n', buf);
    }
    fclose(buf);
    if (rc == 0) fwrite(text, 1, len, out);
    free(text);
    return rc;
}

void wb_cli_go_time(int64_t sec, char *buf, size_t size) {
    char rfc[64];
    wb_time_format(sec, -1, rfc, sizeof rfc); /* YYYY-MM-DDTHH:MM:SSZ */
    snprintf(buf, size, "%.10s %.8s +0000 UTC", rfc, rfc + 11);
}

/* The part of Go's text/template that `--format` is used with: literal text, `{{.Field.Sub}}`,
 * `{{.}}`, `{{json .X}}`, `{{index .X "key"}}` / `{{index .X 0}}`, `{{join .List ","}}`,
 * `{{upper .X}}`, `{{lower .X}}`, `{{len .X}}`, `{{range .X}}...{{else}}...{{end}}` (arrays in
 * order, maps in key order), `{{if .X}}`, `{{with .X}}`, `{{- ` / ` -}}` trimming; "\t" and "\n" in
 * the format are tab and newline (as Docker's CLI does). Values print as Go prints them: strings
 * bare, arrays [a b], objects map[k:v], null as <no value>. */
#ifndef WB_CLI_GOTEMPLATE_H
#define WB_CLI_GOTEMPLATE_H

#include <jansson.h>
#include <stdio.h>

#include "base/error.h"

int wb_gotemplate_render(const char *tmpl, const json_t *data, FILE *out, wb_error *err);
/* The header row of a `table` format: the same template over an object of column titles
 * ({"ID": "CONTAINER ID", ...}), with json/join/upper/lower/... printing the title unchanged,
 * as Docker's CLI derives its headers. */
int wb_gotemplate_render_header(const char *tmpl, const json_t *titles, FILE *out, wb_error *err);

#endif

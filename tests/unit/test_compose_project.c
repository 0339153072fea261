/* Compose project files and names (compose/project.h): the default file names and their order,
 * the override file, walking up to a parent directory, the multiple-files warning, -f and
 * --project-directory, and the project name's precedence, normalisation and validation. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#include "base/error.h"
#include "compose/project.h"

static char *scratch(void) {
    char tmpl[] = "/tmp/wb-compose-XXXXXX";
    char *d = mkdtemp(tmpl);
    ASSERT_TRUE(d != NULL);
    return strdup(d);
}

static void touch(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs("services: {}\n", f);
    fclose(f);
}

static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

TEST(compose_files_default_names_in_order) {
    char *d = scratch();
    wb_compose_files f;
    wb_error err;
    ASSERT_EQ(wb_compose_find_files(d, NULL, 0, &f, &err), -1);
    ASSERT_STR_EQ(err.msg, "no configuration file provided: not found");
    touch(d, "docker-compose.yaml");
    ASSERT_EQ(wb_compose_find_files(d, NULL, 0, &f, &err), 0);
    ASSERT_EQ(f.n, 1);
    ASSERT_STR_EQ(base(f.paths[0]), "docker-compose.yaml");
    ASSERT_TRUE(f.warning == NULL);
    wb_compose_files_free(&f);
    touch(d, "docker-compose.yml"); /* .yml before .yaml for docker-compose.* */
    ASSERT_EQ(wb_compose_find_files(d, NULL, 0, &f, &err), 0);
    ASSERT_STR_EQ(base(f.paths[0]), "docker-compose.yml");
    ASSERT_TRUE(f.warning != NULL);
    ASSERT_STR_CONTAINS(f.warning, "Found multiple config files with supported names: ");
    wb_compose_files_free(&f);
    touch(d, "compose.yaml"); /* compose.yaml first of all */
    touch(d, "compose.override.yaml");
    ASSERT_EQ(wb_compose_find_files(d, NULL, 0, &f, &err), 0);
    ASSERT_EQ(f.n, 2);
    ASSERT_STR_EQ(base(f.paths[0]), "compose.yaml");
    ASSERT_STR_EQ(base(f.paths[1]), "compose.override.yaml");
    ASSERT_STR_EQ(f.project_dir, d);
    ASSERT_STR_CONTAINS(f.warning, "Using ");
    wb_compose_files_free(&f);
    free(d);
}

TEST(compose_files_found_in_a_parent) {
    char *d = scratch();
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/a/b", d);
    char a[4200];
    snprintf(a, sizeof a, "%s/a", d);
    ASSERT_EQ(mkdir(a, 0755), 0);
    ASSERT_EQ(mkdir(sub, 0755), 0);
    touch(d, "compose.yml");
    wb_compose_files f;
    wb_error err;
    char cwd[4096];
    ASSERT_TRUE(getcwd(cwd, sizeof cwd) != NULL);
    ASSERT_EQ(chdir(sub), 0);
    int rc = wb_compose_find_files(NULL, NULL, 0, &f, &err);
    ASSERT_EQ(chdir(cwd), 0);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(f.n, 1);
    char want[4300];
    snprintf(want, sizeof want, "%s/compose.yml", d);
    ASSERT_STR_EQ(f.paths[0], want);
    ASSERT_STR_EQ(f.project_dir, d); /* the directory that holds the file */
    wb_compose_files_free(&f);
    free(d);
}

TEST(compose_files_given) {
    char *d = scratch();
    touch(d, "one.yml");
    touch(d, "two.yml");
    char one[4200], two[4200];
    snprintf(one, sizeof one, "%s/one.yml", d);
    snprintf(two, sizeof two, "%s/two.yml", d);
    char *given[] = {one, two, "-"};
    wb_compose_files f;
    wb_error err;
    ASSERT_EQ(wb_compose_find_files(NULL, given, 3, &f, &err), 0);
    ASSERT_EQ(f.n, 3);
    ASSERT_STR_EQ(f.paths[1], two);
    ASSERT_STR_EQ(f.paths[2], "-");
    ASSERT_STR_EQ(f.project_dir, d);
    wb_compose_files_free(&f);
    ASSERT_EQ(wb_compose_find_files("/srv/elsewhere", given, 1, &f, &err), 0);
    ASSERT_STR_EQ(f.project_dir, "/srv/elsewhere");
    wb_compose_files_free(&f);
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/nope.yml", d);
    char *bad[] = {missing};
    ASSERT_EQ(wb_compose_find_files(NULL, bad, 1, &f, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "nope.yml: no such file or directory");
    free(d);
}

TEST(compose_project_name_precedence) {
    char *n;
    wb_error err;
    ASSERT_EQ(wb_compose_project_name("flag", "env", "key", "/x/dir", &n, &err), 0);
    ASSERT_STR_EQ(n, "flag");
    free(n);
    ASSERT_EQ(wb_compose_project_name(NULL, "env", "key", "/x/dir", &n, &err), 0);
    ASSERT_STR_EQ(n, "env");
    free(n);
    ASSERT_EQ(wb_compose_project_name("", "", "key", "/x/dir", &n, &err), 0);
    ASSERT_STR_EQ(n, "key");
    free(n);
    ASSERT_EQ(wb_compose_project_name(NULL, NULL, NULL, "/x/My App.v2", &n, &err), 0);
    ASSERT_STR_EQ(n, "myappv2");
    free(n);
    ASSERT_EQ(wb_compose_project_name(NULL, NULL, NULL, "/x/__Web-1", &n, &err), 0);
    ASSERT_STR_EQ(n, "web-1");
    free(n);
    ASSERT_EQ(wb_compose_project_name(NULL, NULL, NULL, "/x/...", &n, &err), -1);
    ASSERT_STR_EQ(err.msg, "project name must not be empty");
    ASSERT_EQ(wb_compose_project_name("Bad", NULL, NULL, "/x/dir", &n, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "invalid project name \"Bad\"");
    ASSERT_EQ(wb_compose_project_name(NULL, "-lead", NULL, "/x/dir", &n, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "start with a letter or number");
}

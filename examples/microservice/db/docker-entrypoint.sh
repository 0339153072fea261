#!/bin/bash
# The MariaDB container's entrypoint (our own, in the manner of the official image's): on the
# first start -- an empty data directory, which is a fresh named volume -- it initialises the
# data directory and creates the accounts the environment asks for; afterwards it only starts the
# server.
#
#   MARIADB_ROOT_PASSWORD / MYSQL_ROOT_PASSWORD   root's password, for root@localhost and
#                                                 root@MARIADB_ROOT_HOST (default '%')
#   MARIADB_ALLOW_EMPTY_ROOT_PASSWORD / MYSQL_ALLOW_EMPTY_PASSWORD   root without a password
#   MARIADB_RANDOM_ROOT_PASSWORD / MYSQL_RANDOM_ROOT_PASSWORD        a generated one, printed
#   MARIADB_DATABASE / MYSQL_DATABASE             a database to create
#   MARIADB_USER / MYSQL_USER, MARIADB_PASSWORD / MYSQL_PASSWORD
#                                                 a user with every right on that database
# Accounts use mysql_native_password (the order service's client speaks it). Nothing is done when
# the data directory is already initialised: the variables only matter on the first start.
set -eo pipefail

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock

log() { echo "$(date -u '+%F %T') 0 [Note] [Entrypoint]: $*" >&2; }
die() {
    echo "$(date -u '+%F %T') 0 [ERROR] [Entrypoint]: $*" >&2
    exit 1
}

# The first of the variables named that is set (MARIADB_* before MYSQL_*).
first_set() {
    local v
    for v in "$@"; do
        if [ -n "${!v+x}" ]; then
            printf '%s' "${!v}"
            return 0
        fi
    done
    return 1
}

# A value for a single-quoted SQL string (backslash escapes are on in the session below).
sql_string() {
    local s=${1//\\/\\\\}
    s=${s//\'/\\\'}
    printf "'%s'" "$s"
}
# A name for a backquoted SQL identifier.
# shellcheck disable=SC2016 # the backquotes are SQL's
sql_ident() { printf '`%s`' "${1//\`/\`\`}"; }

init_datadir() {
    local root_pw root_host allow_empty random db user pw sql pid i
    root_pw=$(first_set MARIADB_ROOT_PASSWORD MYSQL_ROOT_PASSWORD) || root_pw=
    allow_empty=$(first_set MARIADB_ALLOW_EMPTY_ROOT_PASSWORD MYSQL_ALLOW_EMPTY_PASSWORD) || allow_empty=
    random=$(first_set MARIADB_RANDOM_ROOT_PASSWORD MYSQL_RANDOM_ROOT_PASSWORD) || random=
    root_host=$(first_set MARIADB_ROOT_HOST MYSQL_ROOT_HOST) || root_host=%
    db=$(first_set MARIADB_DATABASE MYSQL_DATABASE) || db=
    user=$(first_set MARIADB_USER MYSQL_USER) || user=
    pw=$(first_set MARIADB_PASSWORD MYSQL_PASSWORD) || pw=
    if [ -z "$root_pw" ] && [ -z "$allow_empty" ] && [ -z "$random" ]; then
        die "Database is uninitialized and password option is not specified
	You need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD"
    fi
    if [ -z "$root_pw" ] && [ -n "$random" ]; then
        root_pw=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32 || true)
        log "GENERATED ROOT PASSWORD: $root_pw"
    fi
    if [ -n "$user" ] && [ "$user" = root ]; then
        die "MARIADB_USER=root: root is made from MARIADB_ROOT_PASSWORD; choose another user name"
    fi

    log "Initializing database files"
    if ! mariadb-install-db --user=mysql --datadir="$DATADIR" --auth-root-authentication-method=normal \
        --skip-test-db --skip-name-resolve --skip-log-bin --expire-logs-days=0 \
        --default-time-zone=SYSTEM --enforce-storage-engine= >/tmp/install-db.log 2>&1; then
        cat /tmp/install-db.log >&2
        die "mariadb-install-db failed"
    fi
    log "Database files initialized"

    log "Starting temporary server"
    mariadbd --user=mysql --datadir="$DATADIR" --skip-networking --socket="$SOCKET" \
        --skip-log-bin --loose-innodb-buffer-pool-load-at-startup=0 &
    pid=$!
    for ((i = 0; i < 300; i++)); do
        if mariadb --protocol=socket --socket="$SOCKET" -uroot -e 'SELECT 1' >/dev/null 2>&1; then break; fi
        kill -0 "$pid" 2>/dev/null || die "the temporary server exited during initialisation"
        sleep 0.1
    done
    [ "$i" -lt 300 ] || die "the temporary server did not answer within 30 s"
    log "Temporary server started"

    # root@localhost (unix socket or password) and root@ROOT_HOST with the password; the
    # accounts install-db made for 127.0.0.1, ::1 and the build's host name go.
    sql="SET @@SESSION.SQL_LOG_BIN=0;
SET @@SESSION.SQL_MODE=REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');
DROP USER IF EXISTS root@'127.0.0.1', root@'::1', ''@'localhost';
EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\\'', @@hostname, '\\', \\'\\'@\\'', @@hostname, '\\'');
ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD($(sql_string "$root_pw")) OR unix_socket;"
    if [ "$root_host" != localhost ]; then
        sql+="
CREATE USER 'root'@$(sql_string "$root_host") IDENTIFIED VIA mysql_native_password USING PASSWORD($(sql_string "$root_pw"));
GRANT ALL ON *.* TO 'root'@$(sql_string "$root_host") WITH GRANT OPTION;
GRANT PROXY ON ''@'%' TO 'root'@$(sql_string "$root_host") WITH GRANT OPTION;"
    fi
    if [ -n "$db" ]; then
        log "Creating database $db"
        sql+="
CREATE DATABASE IF NOT EXISTS $(sql_ident "$db");"
    fi
    if [ -n "$user" ]; then
        log "Creating user $user"
        sql+="
CREATE USER $(sql_string "$user")@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD($(sql_string "$pw"));"
        if [ -n "$db" ]; then
            log "Giving user $user access to schema $db"
            sql+="
GRANT ALL ON $(sql_ident "${db//_/\\_}").* TO $(sql_string "$user")@'%';"
        fi
    fi
    log "Securing system users"
    printf '%s\n' "$sql" | mariadb --protocol=socket --socket="$SOCKET" -uroot --binary-mode ||
        die "the initial SQL failed"

    log "Stopping temporary server"
    kill -TERM "$pid"
    wait "$pid" || die "the temporary server did not stop cleanly"
    log "Temporary server stopped"
    log "MariaDB init process done. Ready for start up."
}

# `docker run IMAGE --some-option`: options for the server
if [ "${1:0:1}" = - ]; then set -- mariadbd "$@"; fi

if [ "$1" = mariadbd ] || [ "$1" = mysqld ]; then
    mkdir -p /run/mysqld "$DATADIR"
    chown mysql:mysql /run/mysqld
    # a fresh named volume is owned by root: the server writes it as mysql
    [ "$(stat -c %U "$DATADIR")" = mysql ] || chown -R mysql:mysql "$DATADIR"
    if [ ! -d "$DATADIR/mysql" ]; then
        init_datadir
    else
        log "Database files already initialized: starting the server"
    fi
fi
exec "$@"

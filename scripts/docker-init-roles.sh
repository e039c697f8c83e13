#!/bin/sh
# The PostgreSQL container's first start (docker-entrypoint-initdb.d): the two roles of
# least privilege. `yishi_owner` owns the database and runs the migrations; `yishi_app`, which
# the server runs as, owns nothing and is granted plain DML (the server revokes changing the
# audit tables from it after each migration).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
create role yishi_owner login password '${YISHI_OWNER_PASSWORD}';
create role yishi_app login password '${YISHI_APP_PASSWORD}';
alter database "${POSTGRES_DB}" owner to yishi_owner;
SQL

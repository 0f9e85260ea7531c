-- PACS Media Import: the database and its two roles. Idempotent: run it again to change a
-- password. psql variables: owner_password, app_password.
--
--   psql -v ON_ERROR_STOP=1 -v owner_password=… -v app_password=… -f deploy/postgres/roles.sql
--
-- importer_owner  owns the schema; used only by migrations (`alembic upgrade head`).
-- importer_app    what the api and the workers use: reads and writes rows, nothing more. It owns
--                 no table, so it cannot drop the trigger that keeps audit_events append-only
--                 (migration 0005) nor TRUNCATE it: the audit trail holds against the app's own
--                 credentials.

SELECT 'CREATE ROLE importer_owner LOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'importer_owner') \gexec
SELECT 'CREATE ROLE importer_app LOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'importer_app') \gexec
ALTER ROLE importer_owner WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
ALTER ROLE importer_app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';

SELECT 'CREATE DATABASE importer OWNER importer_owner ENCODING ''UTF8'' TEMPLATE template0'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'importer') \gexec
REVOKE ALL ON DATABASE importer FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE importer TO importer_owner, importer_app;

\connect importer
-- PostgreSQL 15+: public belongs to the database owner and nobody else may create in it
ALTER SCHEMA public OWNER TO importer_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO importer_app;
-- rows of every table and sequence the migrations create, now and later
ALTER DEFAULT PRIVILEGES FOR ROLE importer_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO importer_app;
ALTER DEFAULT PRIVILEGES FOR ROLE importer_owner IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO importer_app;
-- tables that exist already (a database migrated before this script was run)
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO importer_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO importer_app;

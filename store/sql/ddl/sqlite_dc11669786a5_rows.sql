-- The rows mlflow 3.17.2 puts in a new SQLite store besides the Default experiment (whose
-- artifact location depends on where the store lives, so store/sql_init.py inserts it).
INSERT INTO alembic_version VALUES('dc11669786a5');
INSERT INTO workspaces VALUES('default','Default workspace for legacy resources',NULL,NULL,NULL);

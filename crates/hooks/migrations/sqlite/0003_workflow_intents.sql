-- The workflowmgr's temporal-workflow-intents: specs started on request, per DIG.
CREATE TABLE workflow_intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    composite_app TEXT NOT NULL,
    composite_app_version TEXT NOT NULL,
    dig TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (project, composite_app, composite_app_version, dig, name)
);

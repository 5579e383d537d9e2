-- TAC's workers sub-resource: the workers a hook intent needs, per intent.
CREATE TABLE worker_intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    composite_app TEXT NOT NULL,
    composite_app_version TEXT NOT NULL,
    dig TEXT NOT NULL,
    tac_intent TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (project, composite_app, composite_app_version, dig, tac_intent, name)
);

-- TAC intents per deployment intent group, in creation order (the order hooks of one type run).
CREATE TABLE hook_intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    composite_app TEXT NOT NULL,
    composite_app_version TEXT NOT NULL,
    dig TEXT NOT NULL,
    name TEXT NOT NULL,
    hook_type TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (project, composite_app, composite_app_version, dig, name)
);

-- The last lifecycle action applied to each deployment intent group.
CREATE TABLE dig_states (
    project TEXT NOT NULL,
    composite_app TEXT NOT NULL,
    composite_app_version TEXT NOT NULL,
    dig TEXT NOT NULL,
    state TEXT NOT NULL,
    app_context_id TEXT NOT NULL,
    PRIMARY KEY (project, composite_app, composite_app_version, dig)
);

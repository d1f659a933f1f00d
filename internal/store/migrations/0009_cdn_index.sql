-- 0009_cdn_index: the global index of what each CDN node holds (issue #16),
-- fed by the nodes' heartbeats, and each viewer's explicit node choice.
-- (0008 is cdn_nodes, the registry.) node_id refers to cdn_nodes.id; no
-- foreign key so that the index can be written before a node's row (and
-- rows are removed by cdnctl when a node is revoked).
--
-- One row is one object (first = last = -1) or a run of segments of one
-- rendition: key is the rendition's directory ending in "/" and
-- first..last the segment numbers, inclusive; bytes is the whole run's.
CREATE TABLE cdn_objects (
    node_id TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    item_id INTEGER NOT NULL DEFAULT 0,
    first   INTEGER NOT NULL DEFAULT -1,
    last    INTEGER NOT NULL DEFAULT -1,
    bytes   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (node_id, key, first)
);
CREATE INDEX cdn_objects_item ON cdn_objects(item_id, node_id);
CREATE INDEX cdn_objects_key ON cdn_objects(key);

-- A viewer's explicit choice of node (PUT /api/me/cdn-node).
CREATE TABLE cdn_node_choice (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    node_id TEXT    NOT NULL
);

-- Link nodes (issue 15): a session also walks the nodes of trees it entered through links. Each
-- entry, stay and end remembers its node's tree (null: the session's own, for events from before),
-- and a tree's analytics count only its own nodes.
alter table analytics_entries add column node_tree_id uuid;
alter table analytics_stays add column node_tree_id uuid;
alter table analytics_sessions add column end_node_tree_id uuid;

-- A solution's outcome is spelled as a session's: `escalate` becomes `escalated` in the copies of
-- the tree versions sessions run on (the trees service's migration 0002 does the same to its own).
update tree_snapshots
set document = jsonb_set(
  document,
  '{nodes}',
  (
    select jsonb_agg(
      case when node->>'outcome' = 'escalate' then jsonb_set(node, '{outcome}', '"escalated"') else node end
      order by position
    )
    from jsonb_array_elements(document->'nodes') with ordinality as element(node, position)
  )
)
where document->'nodes' @> '[{"outcome": "escalate"}]';

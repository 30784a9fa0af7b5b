-- A solution's outcome is spelled as a session's: `escalate` becomes `escalated` in every stored
-- version. The versions' content is unchanged; only the word that names it is.
update tree_versions
set nodes = (
  select jsonb_agg(
    case when node->>'outcome' = 'escalate' then jsonb_set(node, '{outcome}', '"escalated"') else node end
    order by position
  )
  from jsonb_array_elements(nodes) with ordinality as element(node, position)
)
where nodes @> '[{"outcome": "escalate"}]';

-- Search under the organization wall at scale (issue 31; found by tests/system/query-plans.test.ts).
-- Row-level security keeps a query's own conditions from running before the policy unless their
-- operators are leakproof, and full-text `@@` and trigram `%` are not: as trees_app, a search
-- read every version of the organization (a sequential scan of tree_versions) instead of the
-- full-text index, and the typo correction read the organization's whole dictionary. These
-- functions run those two reads as the owner, whom the (enabled, not forced) wall does not bind,
-- and name the caller's organization themselves: `tdt_current_org()`, the transaction's, and
-- nothing when it names none.

-- The versions of the organization matching `matching`, ranked by `ranking` over the small
-- rank vector (title A, category and tags B, description C).
create function tree_versions_matching(matching tsquery, ranking tsquery)
  returns table (tree_id uuid, version integer, created_at timestamptz, rank real)
  language sql stable security definer set search_path = public
  as $$
    select v.tree_id, v.version, v.created_at, ts_rank('{0.1, 0.2, 0.4, 1.0}', v.rank_vector, ranking)
    from tree_versions v
    where v.org_id = tdt_current_org() and v.search @@ matching
  $$;

-- Each query word as typed if the organization knows it (or it is short, or, last, the start of
-- a word it knows), else the nearest word it knows: two neighbouring letters swapped
-- (`swapped`, space-separated candidates), else by trigrams; else as typed.
create function search_words_corrected(words text[], swapped text[])
  returns table (word text)
  language sql stable security definer set search_path = public
  as $$
    select case
        when length(w.word) < 4 then w.word
        when exists (select 1 from search_words s where s.org_id = tdt_current_org() and s.word = w.word) then w.word
        when w.position = cardinality(words)
          and exists (
            select 1 from search_words s
            where s.org_id = tdt_current_org() and s.word ~>=~ w.word and s.word ~<~ (w.word || chr(1114111))
          ) then w.word
        else coalesce(
          (select s.word from search_words s
           where s.org_id = tdt_current_org() and s.word = any(string_to_array(w.swapped, ' '))
           order by s.word limit 1),
          (select s.word from search_words s
           where s.org_id = tdt_current_org() and s.word % w.word
           order by s.word <-> w.word, s.word limit 1),
          w.word)
      end
    from unnest(words, swapped) with ordinality as w(word, swapped, position)
    order by w.position
  $$;

revoke all on function tree_versions_matching(tsquery, tsquery) from public;
revoke all on function search_words_corrected(text[], text[]) from public;
grant execute on function tree_versions_matching(tsquery, tsquery) to trees_app;
grant execute on function search_words_corrected(text[], text[]) to trees_app;

-- A prefix of a word, within the organization's dictionary.
create index search_words_org_prefix on search_words (org_id, word text_pattern_ops);
drop index search_words_prefix;

-- The trees list counts an organization's live trees from an index, not the table.
create index trees_org_live on trees (org_id, latest_version, published_version) where deleted_at is null;

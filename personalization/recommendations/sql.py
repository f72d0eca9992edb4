"""The set-based statements that rebuild the recommendation tables (PostgreSQL and SQLite).

Both statements are plain SQL that PostgreSQL and SQLite run alike (CTEs, window functions), so
the embedded demo and production compute the same numbers. ``services.recommendation_data_refresh``
runs them in one transaction after deleting the old rows.

PAIRS: for every two products a and b, the number of distinct shoppers who bought both
(``co_purchases``) and who like both (``co_likes``, net of withdrawn likes), from each shopper's
latest %(per_user)s products; score = co_purchases * purchase weight + co_likes * like weight;
the top %(per_product)s partners of each product are kept. Shoppers who turned personalization
off are left out. Anonymous events carry no shopper and are not paired.

POPULARITY: every active product with its purchases, net likes and views over the last
RECOMMENDATIONS_POPULARITY_DAYS days (anonymous visitors count too), scored with
RECOMMENDATIONS_POPULARITY_WEIGHTS plus a small rating term so a new catalogue still has an order.
"""

PAIRS = """
INSERT INTO recommendations_productpair (product_id, other_id, co_purchases, co_likes, score)
WITH opted_out AS (
    SELECT user_id FROM personalization_shopperchoice WHERE personalization_enabled = %(false)s
), acts AS (
    SELECT e.user_id, e.product_id,
           sum(CASE WHEN e.kind = 'purchase' THEN 1 ELSE 0 END) AS bought,
           sum(CASE WHEN e.kind = 'like' THEN 1 WHEN e.kind = 'unlike' THEN -1 ELSE 0 END)
               AS liked,
           max(e.occurred_at) AS last_at
    FROM personalization_event e
    WHERE e.kind IN ('purchase', 'like', 'unlike') AND e.user_id IS NOT NULL
      AND e.product_id IS NOT NULL AND e.user_id NOT IN (SELECT user_id FROM opted_out)
    GROUP BY e.user_id, e.product_id
), recent AS (
    SELECT user_id, product_id, bought > 0 AS b, liked > 0 AS l,
           row_number() OVER (PARTITION BY user_id ORDER BY last_at DESC, product_id) AS rn
    FROM acts WHERE bought > 0 OR liked > 0
), items AS (
    SELECT user_id, product_id, b, l FROM recent WHERE rn <= %(per_user)s
), counted AS (
    SELECT a.product_id, o.product_id AS other_id,
           sum(CASE WHEN a.b AND o.b THEN 1 ELSE 0 END) AS co_purchases,
           sum(CASE WHEN a.l AND o.l THEN 1 ELSE 0 END) AS co_likes
    FROM items a JOIN items o ON o.user_id = a.user_id AND o.product_id <> a.product_id
    GROUP BY a.product_id, o.product_id
), ranked AS (
    SELECT product_id, other_id, co_purchases, co_likes,
           co_purchases * %(purchase_weight)s + co_likes * %(like_weight)s AS score,
           row_number() OVER (
               PARTITION BY product_id
               ORDER BY co_purchases * %(purchase_weight)s + co_likes * %(like_weight)s DESC,
                        other_id) AS rn
    FROM counted WHERE co_purchases > 0 OR co_likes > 0
)
SELECT r.product_id, r.other_id, r.co_purchases, r.co_likes, r.score
FROM ranked r
JOIN shop_product p ON p.id = r.product_id
JOIN shop_product o ON o.id = r.other_id AND o.is_active = %(true)s
WHERE r.rn <= %(per_product)s
"""

POPULARITY = """
INSERT INTO recommendations_productpopularity
    (product_id, category_id, purchases, likes, views, score)
WITH recent AS (
    SELECT e.product_id,
           sum(CASE WHEN e.kind = 'purchase' THEN 1 ELSE 0 END) AS purchases,
           sum(CASE WHEN e.kind = 'like' THEN 1 WHEN e.kind = 'unlike' THEN -1 ELSE 0 END)
               AS likes,
           sum(CASE WHEN e.kind = 'view' THEN 1 ELSE 0 END) AS views
    FROM personalization_event e
    WHERE e.product_id IS NOT NULL AND e.occurred_at >= %(since)s
      AND e.kind IN ('purchase', 'like', 'unlike', 'view')
    GROUP BY e.product_id
)
SELECT p.id, p.category_id, coalesce(r.purchases, 0), coalesce(r.likes, 0),
       coalesce(r.views, 0),
       coalesce(r.purchases, 0) * %(purchase_weight)s + coalesce(r.likes, 0) * %(like_weight)s
       + coalesce(r.views, 0) * %(view_weight)s + p.rating_avg * %(rating_weight)s
FROM shop_product p LEFT JOIN recent r ON r.product_id = p.id
WHERE p.is_active = %(true)s
"""

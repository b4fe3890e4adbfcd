-- Drawing for the dashboard (dashboard_html): HTML escaping and one inline-SVG chart helper that
-- every chart uses. Plain SVG and CSS: no script, font or image is loaded.

-- Text made safe for HTML and SVG, in element content and in quoted attribute values.
CREATE FUNCTION orchestrator._html_escape(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT replace(replace(replace(replace(replace(value, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                           '"', '&quot;'), '''', '&#39;')
$$;

-- A number for people: whole above 100, else at most 2 (above 1) or 4 significant decimals.
CREATE FUNCTION orchestrator._chart_number(value numeric) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value IS NULL THEN '–'
                WHEN abs(value) >= 100 THEN round(value)::text
                WHEN abs(value) >= 1 THEN trim_scale(round(value, 2))::text
                ELSE trim_scale(round(value, 4))::text END
$$;

-- One chart as inline SVG: `labels` name the x positions; `series` is a JSON array of
-- {"name": ..., "values": [numbers or null, one per label], "color": optional, "dashed": optional}.
-- kind 'line' draws each series as lines through its points (a null breaks the line), 'bar' as
-- grouped bars. The y axis starts at 0 and ends at a round number above the largest value. Every
-- point carries a <title> with its label and value, shown on hover. `chart` names the chart
-- (data-chart attribute); all text is escaped here.
CREATE FUNCTION orchestrator._svg_chart(chart text, title text, labels text[], series jsonb,
                                        kind text DEFAULT 'line') RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    width CONSTANT integer := 560;
    height CONSTANT integer := 250;
    left_x CONSTANT numeric := 60;
    right_x CONSTANT numeric := 548;
    top_y CONSTANT numeric := 52;
    bottom_y CONSTANT numeric := 214;
    palette CONSTANT text[] := ARRAY['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2'];
    n integer := coalesce(cardinality(labels), 0);
    largest numeric;
    step numeric;
    y_max numeric;
    slot numeric;
    svg text;
    s record;
    color text;
    i integer;
    v numeric;
    x numeric;
    y numeric;
    segment text := '';
    segment_points integer := 0;
    dots text := '';
    legend_x numeric := left_x;
    every integer;
    bar_width numeric;
BEGIN
    IF kind IS NULL OR kind NOT IN ('line', 'bar') THEN
        RAISE EXCEPTION 'chart kind must be line or bar' USING ERRCODE = '22023';
    END IF;
    IF series IS NULL OR jsonb_typeof(series) <> 'array' THEN
        RAISE EXCEPTION 'chart series must be a JSON array' USING ERRCODE = '22023';
    END IF;
    SELECT max(e.v::numeric) INTO largest
      FROM jsonb_array_elements(series) se, jsonb_array_elements_text(se -> 'values') e(v);
    -- A round step (1, 2, 2.5 or 5 times a power of ten) with four steps reaching the largest.
    IF coalesce(largest, 0) <= 0 THEN
        step := 0.25;
    ELSE
        step := power(10::numeric, floor(log(largest / 4)));
        step := step * (SELECT min(f) FROM unnest(ARRAY[1, 2, 2.5, 5, 10]::numeric[]) f
                         WHERE step * f >= largest / 4);
    END IF;
    y_max := step * 4;
    slot := (right_x - left_x) / greatest(n, 1);
    every := greatest(1, ceil(n / 8.0)::integer);

    svg := format('<svg class="chart" data-chart="%s" role="img" aria-label="%s" viewBox="0 0 %s %s" '
                  'xmlns="http://www.w3.org/2000/svg">',
                  orchestrator._html_escape(chart), orchestrator._html_escape(title), width, height)
        || format('<text class="title" x="%s" y="20">%s</text>', left_x - 44,
                  orchestrator._html_escape(title));
    -- Grid lines with their values, then the x labels.
    FOR i IN 0..4 LOOP
        y := bottom_y - i * (bottom_y - top_y) / 4;
        svg := svg || format('<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/>', left_x,
                             round(y, 1), right_x, round(y, 1))
                   || format('<text class="axis" x="%s" y="%s" text-anchor="end">%s</text>',
                             left_x - 6, round(y + 4, 1), orchestrator._chart_number(i * step));
    END LOOP;
    FOR i IN 1..n LOOP
        IF (i - 1) % every = 0 THEN
            svg := svg || format('<text class="axis" x="%s" y="%s" text-anchor="middle">%s</text>',
                                 round(left_x + (i - 0.5) * slot, 1), bottom_y + 16,
                                 orchestrator._html_escape(labels[i]));
        END IF;
    END LOOP;
    IF largest IS NULL THEN
        svg := svg || format('<text class="empty" x="%s" y="%s" text-anchor="middle">No data in this window</text>',
                             (left_x + right_x) / 2, (top_y + bottom_y) / 2);
    END IF;

    bar_width := slot * 0.8 / greatest(jsonb_array_length(series), 1);
    FOR s IN SELECT se.value AS item, se.ordinality AS k
               FROM jsonb_array_elements(series) WITH ORDINALITY se LOOP
        color := coalesce(s.item ->> 'color', palette[1 + (s.k - 1) % cardinality(palette)]);
        -- The legend entry.
        svg := svg || format('<rect x="%s" y="30" width="10" height="10" fill="%s"/>', legend_x,
                             orchestrator._html_escape(color))
                   || format('<text class="legend" x="%s" y="39">%s</text>', legend_x + 14,
                             orchestrator._html_escape(s.item ->> 'name'));
        legend_x := legend_x + 30 + 6.5 * length(s.item ->> 'name');
        segment := '';
        segment_points := 0;
        FOR i IN 1..n + 1 LOOP
            v := CASE WHEN i <= n THEN (s.item -> 'values' ->> (i - 1))::numeric END;
            IF v IS NULL THEN
                -- A gap (or the end): draw the line so far.
                IF segment_points > 1 THEN
                    svg := svg || format('<polyline class="mark" fill="none" stroke="%s" stroke-width="2"%s points="%s"/>',
                                         orchestrator._html_escape(color),
                                         CASE WHEN (s.item ->> 'dashed')::boolean
                                              THEN ' stroke-dasharray="6 4"' ELSE '' END,
                                         segment);
                END IF;
                svg := svg || dots;
                dots := '';
                segment := '';
                segment_points := 0;
                CONTINUE;
            END IF;
            x := left_x + (i - 0.5) * slot;
            y := bottom_y - least(v, y_max) / y_max * (bottom_y - top_y);
            IF kind = 'bar' THEN
                svg := svg || format('<rect class="mark" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>',
                                     round(x - slot * 0.4 + (s.k - 1) * bar_width, 1), round(y, 1),
                                     round(bar_width, 1), round(bottom_y - y, 1),
                                     orchestrator._html_escape(color),
                                     orchestrator._html_escape(format('%s, %s: %s', labels[i],
                                                                      s.item ->> 'name',
                                                                      orchestrator._chart_number(v))));
            ELSE
                segment := segment || CASE WHEN segment_points > 0 THEN ' ' ELSE '' END
                           || round(x, 1) || ',' || round(y, 1);
                segment_points := segment_points + 1;
                IF NOT coalesce((s.item ->> 'dashed')::boolean, false) THEN
                    dots := dots || format('<circle class="mark" cx="%s" cy="%s" r="2.5" fill="%s"><title>%s</title></circle>',
                                         round(x, 1), round(y, 1), orchestrator._html_escape(color),
                                         orchestrator._html_escape(format('%s, %s: %s', labels[i],
                                                                          s.item ->> 'name',
                                                                          orchestrator._chart_number(v))));
                END IF;
            END IF;
        END LOOP;
    END LOOP;
    RETURN svg || format('<line class="baseline" x1="%s" y1="%s" x2="%s" y2="%s"/></svg>', left_x,
                         bottom_y, right_x, bottom_y);
END $$;

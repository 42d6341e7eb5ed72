{#- SPEC section 6: a totals mart holds exactly the sums of its slices mart at the totals' grain,
    and a grain key appears in both marts or in neither. Applied to the totals model; `slices`
    is the slices model, `grain` the totals' key columns, `measures` the additive counts. (A
    quantile is not additive: the latency totals compute theirs from the conversions, so only
    their counts are compared.) Fails with one row per grain key that differs. -#}
{% test totals_add_up_to_slices(model, slices, grain, measures) %}

with

totals as (

    select
        *,
        true as is_in_totals
    from {{ model }}

),

slice_rows as (

    select * from {{ slices }}

),

summed_slices as (

    select
        {%- for column in grain %}
        {{ column }},
        {%- endfor %}
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }},
        {%- endfor %}
        true as is_in_slices
    from slice_rows
    group by {{ grain | join(', ') }}

),

compared as (

    select
        {%- for column in grain %}
        coalesce(summed_slices.{{ column }}, totals.{{ column }}) as {{ column }},
        {%- endfor %}
        {%- for measure in measures %}
        summed_slices.{{ measure }} as slice_{{ measure }},
        totals.{{ measure }} as total_{{ measure }},
        {%- endfor %}
        coalesce(summed_slices.is_in_slices, false) as is_in_slices,
        coalesce(totals.is_in_totals, false) as is_in_totals
    from summed_slices
    full outer join totals
        on
            {%- for column in grain %}
            {{ 'and ' if not loop.first }}summed_slices.{{ column }} = totals.{{ column }}
            {%- endfor %}

),

final as (

    select * from compared
    where
        not is_in_slices
        or not is_in_totals
        {%- for measure in measures %}
        or slice_{{ measure }} <> total_{{ measure }}
        {%- endfor %}

)

select * from final

{% endtest %}

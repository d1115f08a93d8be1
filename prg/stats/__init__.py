"""Pure numbers shared by PRG and survey analysis: no database, no HTTP. Import each from its module:

- `prg.stats.intervals`: Wilson score intervals for proportions, and Newcombe's interval for the difference
  of two (survey results, the PRG check);
- `prg.stats.goodness_of_fit`: Pearson's statistic and the exact or Monte Carlo multinomial p-value;
- `prg.stats.representativeness`: a PRG against its practice population, group by group and overall
  (`compare_groups`), also used for survey respondents against the patients;
- `prg.stats.recruitment`: the fewest extra members, by group, to reach a representation ratio
  (`recruitment_targets`);
- `prg.stats.inputs`: the argument checks they share.

Every function is unit-tested against published reference values (tests/unit/test_stats.py).
"""

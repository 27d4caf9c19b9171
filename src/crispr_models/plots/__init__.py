"""Every figure of the book, by audience (:mod:`~crispr_models.plots.series`,
:mod:`~crispr_models.plots.checks`, :mod:`~crispr_models.plots.screen`; the
style they share in :mod:`~crispr_models.plots.base`). Every function returns
a figure (a plotnine ``ggplot`` or a matplotlib ``Figure``); none shows or
saves it."""

"""Model 6 on the raw and on the diploid-centred copy number, side by side.

    .venv/bin/python benchmarks/copy_number_centring.py               # data seeds 103 and 1
    .venv/bin/python benchmarks/copy_number_centring.py --seeds 103 1 2 --out /tmp/m6.csv
    .venv/bin/python benchmarks/copy_number_centring.py --model m6corr --target-accept 0.9 0.97

``--model m6corr`` or ``m6global`` fits that chapter's recommended model on
its own data set (the registry's) with each covariate instead, at the
chapter's draws, and skips the fits across the prior.

For each simulated data set (the chapter's design, ``RandomState(seed)``),
fits the raw (``cna``) and the diploid-centred (``cna_diploid``) covariate,
centred and non-centred, at several ``target_accept``, with the chapter's
4 chains x (2000 + 2000) draws, and prints divergences, the largest r-hat,
the lowest bulk ESS, sampling seconds and whether the convergence checks
pass. Then, with ``--prior-fits N``, N data sets drawn from each diploid
model's prior (the calibration chapter's settings: one chain of 200 + 200
draws) and how many of their fits diverge, centred against non-centred:
the evidence behind model 6's recommendation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from crispr_models.checks.calibration import (
    CalibrationSettings,
    calibration_fit_summary,
    simulation_based_calibration,
)
from crispr_models.checks.diagnostics import convergence_report
from crispr_models.core.fitting import fit
from crispr_models.core.registry import recommended_model
from crispr_models.core.settings import SamplerSettings
from crispr_models.series.models import correlated_sgrna_copy_number_model, sgrna_copy_number_model
from crispr_models.series.simulation import SGRNA_DIPLOID_COPY_NUMBER, simulate_sgrna_copy_number

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "copy_number_centring.csv"


def _fit_figures(model, chapter: str, draws: int, target_accept: float) -> dict:
    """Fit with 4 chains x (draws + draws); the chapter's convergence figures."""
    settings = SamplerSettings(draws=draws, tune=draws, chains=4, target_accept=target_accept)
    idata = fit(model, np.random.default_rng(5), settings)
    names = [v for v in recommended_model(chapter).var_names if v in idata.posterior]
    report = convergence_report(idata, names)
    return {
        "target_accept": target_accept,
        "divergences": report.divergences,
        "max_r_hat": report.max_r_hat,
        "min_ess_bulk": report.min_ess_bulk,
        "sampling_seconds": idata.posterior.attrs["sampling_time"],
        "converged": report.passed,
    }


def one_fit(
    data: pd.DataFrame, covariate: str, parameterization: str, target_accept: float
) -> dict:
    model = sgrna_copy_number_model(data, covariate=covariate, parameterization=parameterization)
    return {
        "covariate": covariate,
        "parameterization": parameterization,
        **_fit_figures(model, "m6", 2000, target_accept),
    }


def across_the_prior(num_fits: int, target_accept: float) -> pd.DataFrame:
    """Fits of the diploid model to data drawn from its prior, per parameterisation."""
    entry = recommended_model("m6")
    design = entry.simulate().observations
    settings = CalibrationSettings(
        num_simulations=num_fits, draws=200, tune=200, thin=10, target_accept=target_accept
    )
    rows = []
    for parameterization in ("centred", "non_centred"):
        model = sgrna_copy_number_model(
            design, covariate="cna_diploid", parameterization=parameterization
        )
        result = simulation_based_calibration(
            model,
            np.random.default_rng(1),
            list(entry.var_names),
            settings,
            design=design,
            predictor=SGRNA_DIPLOID_COPY_NUMBER,
        )
        summary = calibration_fit_summary(result)
        rows.append(
            {
                "parameterization": parameterization,
                "target_accept": target_accept,
                "fits": num_fits,
                "with_divergences": summary["with_divergences"],
                "median_min_ess_bulk": summary["median_min_ess_bulk"],
            }
        )
    return pd.DataFrame(rows)


#: Other chapters' recommended models with a choice of covariate, and their draws.
OTHER_MODELS = {
    "m6corr": (lambda data, cov: correlated_sgrna_copy_number_model(data, covariate=cov), 2000),
    "m6global": (
        lambda data, cov: sgrna_copy_number_model(data, covariate=cov, global_intercept="zero_sum"),
        1000,
    ),
}


def other_model_fits(chapter: str, target_accepts: list[float]) -> pd.DataFrame:
    """A chapter's recommended model on its data, raw against diploid-centred."""
    build, draws = OTHER_MODELS[chapter]
    data = recommended_model(chapter).simulate().observations
    rows = []
    for covariate in ("cna", "cna_diploid"):
        for target_accept in target_accepts:
            model = build(data, covariate)
            rows.append(
                {
                    "model": chapter,
                    "covariate": covariate,
                    **_fit_figures(model, chapter, draws, target_accept),
                }
            )
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["m6", *OTHER_MODELS], default="m6")
    parser.add_argument("--seeds", nargs="+", type=int, default=[103, 1])
    parser.add_argument("--target-accept", nargs="+", type=float, default=[0.8, 0.9, 0.97])
    parser.add_argument("--prior-fits", type=int, default=40, help="0 to skip")
    parser.add_argument("--out", type=Path, default=None, help=f"CSV path ({DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if args.model != "m6":
        table = other_model_fits(args.model, args.target_accept)
        out = args.out or DEFAULT_OUT.with_name(f"copy_number_centring_{args.model}.csv")
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
        print(table.round(3).to_string(index=False))
        return 0
    args.out = args.out or DEFAULT_OUT
    rows = []
    for seed in args.seeds:
        data = simulate_sgrna_copy_number(np.random.RandomState(seed)).observations
        for covariate in ("cna", "cna_diploid"):
            for parameterization in ("non_centred", "centred"):
                for target_accept in args.target_accept:
                    row = one_fit(data, covariate, parameterization, target_accept)
                    rows.append({"data_seed": seed, **row})
                    print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(table.round(3).to_string(index=False))
    if args.prior_fits:
        prior = pd.concat(
            [across_the_prior(args.prior_fits, ta) for ta in args.target_accept], ignore_index=True
        )
        prior.to_csv(args.out.with_name(args.out.stem + "_prior.csv"), index=False)
        print(prior.round(1).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

import numpy as np
import pytest

from crispr_models.core import input_checks as v


@pytest.mark.parametrize(
    ("check", "value", "error"),
    [
        (v.check_positive_int, 0, ValueError),
        (v.check_positive_int, -3, ValueError),
        (v.check_positive_int, 2.5, TypeError),
        (v.check_positive_int, True, TypeError),
        (v.check_non_negative_int, -1, ValueError),
        (v.check_real, "1", TypeError),
        (v.check_real, float("nan"), ValueError),
        (v.check_positive_real, 0.0, ValueError),
        (v.check_probability, 1.0, ValueError),
        (v.check_probability, 0.0, ValueError),
    ],
)
def test_checks_refuse_bad_values_naming_the_parameter(check, value, error):
    with pytest.raises(error, match="my_param"):
        check("my_param", value)


def test_checks_pass_good_values_through():
    assert v.check_positive_int("n", np.int64(3)) == 3
    assert v.check_non_negative_int("n", 0) == 0
    assert v.check_positive_real("s", 2) == 2.0
    assert v.check_probability("p", 0.9) == 0.9
    assert v.check_choice("c", "a", ("a", "b")) == "a"


def test_check_choice_lists_the_accepted_values():
    with pytest.raises(ValueError, match="'a', 'b'"):
        v.check_choice("c", "z", ("a", "b"))


def test_check_rng_accepts_generators_and_refuses_seeds():
    assert v.check_rng(np.random.default_rng(1)) is not None
    assert v.check_rng(np.random.RandomState(1)) is not None
    with pytest.raises(TypeError, match="Generator"):
        v.check_rng(42)

"""The comparison rules of code answers: pure functions on plain data, no sandbox."""

import numpy as np

from grading.code import arguments
from grading.code.compare import Raised, check_property, compare
from grading.code.harness import Unsupported, decode_value, encode_value


def test_it_accepts_numbers_within_the_tolerance():
    assert compare(6.001, 6.001 + 1e-9) is None
    assert compare(1.0, 1.0 + 1e-3, rtol=1e-2) is None


def test_it_names_expected_and_received_numbers():
    problem = compare(6.001, 12.0)
    assert "expected 6.001" in problem and "received 12.0" in problem


def test_it_matches_nan_only_with_nan():
    assert compare(float("nan"), float("nan")) is None
    assert compare(float("nan"), 1.0) is not None


def test_it_checks_shapes_first_and_names_both():
    problem = compare(np.zeros(3), np.zeros((3, 1)))
    assert "shape (3,)" in problem and "shape (3, 1)" in problem


def test_it_names_the_first_differing_element():
    problem = compare(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.5]))
    assert "[2]" in problem and "3.5" in problem and "1 of 3" in problem


def test_it_takes_a_list_of_arrays_for_an_array_of_iterates():
    expected = np.array([[2.0, 1.0], [1.6, 0.4]])
    assert compare(expected, [np.array([2.0, 1.0]), np.array([1.6, 0.4])]) is None


def test_it_compares_tuples_item_by_item_with_lengths_first():
    assert compare((1.4, 0.5), (1.4, 0.5)) is None
    assert "expected 2 items, received 3" in compare((1.4, 0.5), (1.4, 0.5, 0.0))
    assert "item 1" in compare((1.4, 0.5), [1.4, 0.6])


def test_it_refuses_a_value_of_an_unsupported_type_by_name():
    problem = compare(1.0, Unsupported("AlwaysEqual"))
    assert problem == "returned a AlwaysEqual, expected a number"


def test_it_refuses_a_bool_for_a_number():
    assert "expected a number, received a bool" in compare(1.0, True)


def test_it_expects_an_exception_of_the_same_type():
    expected = Raised("ValueError", "steps must be at least 0")
    assert compare(expected, Raised("ValueError", "other words")) is None
    problem = compare(expected, Raised("TypeError", "bad"))
    assert "ValueError: steps must be at least 0" in problem and "TypeError: bad" in problem
    assert "to be raised, received 3.0" in compare(expected, 3.0)


def test_it_accepts_a_fit_within_one_percent_of_the_best_chi_squared():
    x, y = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 3.0, 5.0, 6.0])
    check = {"chi_squared": {"x": 0, "y": 1, "model": "line", "within": 0.01}}
    assert check_property(check, [x, y], (1.4, 0.5), (1.4, 0.5005)) is None
    problem = check_property(check, [x, y], (1.4, 0.5), (1.0, 0.5))
    assert "chi-squared" in problem


def test_it_keeps_only_exact_types_when_encoding():
    class Liar(float):
        def __eq__(self, other):
            return True

    data = encode_value([Liar(1.0), np.float64(2.0), (1, None), np.arange(3)], np)
    value = decode_value(data, np)
    assert value[0] == Unsupported("Liar")
    assert value[1] == 2.0 and value[2] == (1, None)
    assert np.array_equal(value[3], np.arange(3))


def test_it_builds_the_same_function_on_both_sides():
    f = arguments.decoded({"fn": "x^2 - 2", "of": ["x"]})
    assert f(3) == 7.0
    grad = arguments.decoded({"fn": ["2 x", "6 y"], "of": ["x", "y"], "vector": True})
    assert np.array_equal(grad(np.array([2.0, 1.0])), np.array([4.0, 6.0]))
    source = arguments.for_sandbox({"fn": "sin(x)/x", "of": ["x"]})["$fn"]
    assert source == "(np.sin(_a0)/_a0)"

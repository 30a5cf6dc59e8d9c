"""Network reference routines: forward pass, cost and backpropagation."""

import numpy as np
import pytest

from grading.reference import networks


def _loop_forward(weights, biases, x, act):
    # One example at a time, one unit at a time: no matrix algebra to share a bug with.
    outputs = []
    for column in np.asarray(x, float).T:
        a = list(column)
        for w, b in zip(weights, biases, strict=True):
            a = [act(sum(w[i][k] * a[k] for k in range(len(a))) + b[i][0]) for i in range(len(w))]
        outputs.append(a)
    return np.array(outputs).T


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _numerical_gradients(net, activation="sigmoid", h=1e-6):
    def c():
        return networks.network_cost(net.weights, net.biases, net.x, net.y, activation)

    grads = []
    for params in (net.weights, net.biases):
        layer_grads = []
        for p in params:
            g = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + h
                up = c()
                p[idx] = old - h
                down = c()
                p[idx] = old
                g[idx] = (up - down) / (2 * h)
            layer_grads.append(g)
        grads.append(layer_grads)
    return grads


def test_it_returns_the_activations_of_every_layer():
    net = networks.random_network([3, 4, 2], np.random.default_rng(1), n_examples=5)
    activations = networks.forward_pass(net.weights, net.biases, net.x)
    assert [a.shape for a in activations] == [(3, 5), (4, 5), (2, 5)]
    assert np.array_equal(activations[0], net.x)
    assert activations[-1] == pytest.approx(_loop_forward(net.weights, net.biases, net.x, _sigmoid))


def test_it_runs_a_tanh_network():
    net = networks.random_network([2, 3, 1], np.random.default_rng(2), n_examples=3)
    out = networks.forward_pass(net.weights, net.biases, net.x, "tanh")[-1]
    assert out == pytest.approx(_loop_forward(net.weights, net.biases, net.x, np.tanh))


def test_it_reads_a_one_dimensional_input_as_one_example():
    w = [np.array([[1.0, -2.0]])]
    b = [np.array([0.5])]
    (a0, a1) = networks.forward_pass(w, b, [0.3, 0.1])
    assert a0.shape == (2, 1)
    assert a1[0, 0] == pytest.approx(_sigmoid(0.3 - 0.2 + 0.5))


def test_it_divides_the_squared_error_by_the_number_of_examples():
    a = np.array([[0.2, 0.9, 0.4], [0.1, 0.5, 0.7]])
    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    expected = sum((a[i, j] - y[i, j]) ** 2 for i in range(2) for j in range(3)) / 3
    assert networks.cost(a, y) == pytest.approx(expected)
    assert networks.cost([0.25], [1.0]) == pytest.approx(0.5625)


def test_it_refuses_mismatched_shapes():
    with pytest.raises(ValueError):
        networks.cost(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError):
        networks.forward_pass(
            [np.zeros((2, 3)), np.zeros((1, 3))], [np.zeros(2), np.zeros(1)], [1, 2, 3]
        )


@pytest.mark.parametrize(
    ("sizes", "n_examples", "activation"),
    [([1, 6, 7, 2], 4, "sigmoid"), ([3, 4, 2], 1, "sigmoid"), ([2, 3, 3, 1], 5, "tanh")],
)
def test_it_backpropagates_the_gradients_of_the_cost(sizes, n_examples, activation):
    net = networks.random_network(sizes, np.random.default_rng(sum(sizes)), n_examples=n_examples)
    grad_w, grad_b = networks.backpropagate(net.weights, net.biases, net.x, net.y, activation)
    num_w, num_b = _numerical_gradients(net, activation)
    assert [g.shape for g in grad_w] == [w.shape for w in net.weights]
    assert [g.shape for g in grad_b] == [b.shape for b in net.biases]
    for got, expected in zip(grad_w + grad_b, num_w + num_b, strict=True):
        assert np.allclose(got, expected, rtol=1e-5, atol=1e-9)


def test_it_shapes_bias_gradients_like_one_dimensional_biases():
    w = [np.array([[0.5, -0.3], [0.2, 0.1]]), np.array([[1.0, -1.0]])]
    b = [np.array([0.1, 0.2]), np.array([0.0])]
    _, grad_b = networks.backpropagate(w, b, [0.4, 0.9], [1.0])
    assert [g.shape for g in grad_b] == [(2,), (1,)]


def test_it_counts_weights_and_biases():
    assert networks.count_parameters([3, 4, 2]) == (20, 6)
    assert networks.count_parameters([1, 6, 7, 2]) == (6 + 42 + 14, 15)


def test_it_draws_the_same_network_from_the_same_seed():
    one = networks.random_network([1, 6, 7, 2], np.random.default_rng(42), n_examples=3)
    two = networks.random_network([1, 6, 7, 2], np.random.default_rng(42), n_examples=3)
    other = networks.random_network([1, 6, 7, 2], np.random.default_rng(43), n_examples=3)
    for a, b in zip(one.weights + one.biases, two.weights + two.biases, strict=True):
        assert np.array_equal(a, b)
    assert not np.array_equal(one.weights[1], other.weights[1])
    assert one.x.shape == (1, 3) and one.y.shape == (2, 3)
    assert np.all((one.y >= 0) & (one.y <= 1))
    assert np.array_equal(one.weights[0], np.round(one.weights[0], 1))

"""The hidden tests of ``grader/01_simclr/test_simclr.py``, rewritten as nbgrader autograder cells.

nbgrader runs its tests *inside the student's kernel*, after the student's own cells, so a check is
plain cell code that calls the student's functions by their global names and compares them with
the reference. Each entry of :data:`CHECKS` is keyed by the name of the pytest test it mirrors;
``run.py`` takes that test's cell and points from vlcourse's own collection of the suite, so both
tools grade the same things for the same points. Same inputs, seeds, tolerances
(:func:`vlcourse.grading.tolerances.assert_close`) and pass conditions as the pytest version.

Differences, all forced by where nbgrader runs the checks:

* the student's kernel has the whole library, so ``vlcourse.simclr`` *is* the reference here
  (nothing is withheld: the reference sits next to the student's code, under a private name);
* ``check_features_match_weights`` (the trusted side recomputing the runner's features) is left
  out: with everything in one process there is no untrusted side to cross-check;
* the encoder probe's partial credit is the cell's last value (nbgrader's partial-credit rule);
* warnings are silenced, because nbgrader scores any output on stderr as a failed test.
"""

# Run at the top of every check (inside its hidden region). Names start with "_" so that the
# checks do not overwrite the student's globals.
PREAMBLE = '''\
import math as _math
import warnings as _warnings
from pathlib import Path as _Path

import torch as _torch

import vlcourse.simclr as _ref  # nothing is withheld in the student's kernel: this is the reference
from vlcourse.data.digits import load_digits_split as _digits
from vlcourse.grading.probes import pair_mse_loss as _pair_mse_loss, value_and_grad as _value_and_grad
from vlcourse.grading.tolerances import assert_close as _assert_close

_warnings.filterwarnings("ignore")  # nbgrader gives 0 points to a test cell that writes to stderr
_points = {points}
_SMALL = {{"channels": [8, 16], "feature_dim": 16, "proj_hidden_dim": 16, "proj_dim": 8}}


def _randn(*shape, seed):
    return _torch.randn(*shape, generator=_torch.Generator().manual_seed(seed), dtype=_torch.float64)
'''

CHECKS = {
    # --- cosine_similarity ---------------------------------------------------------------------
    "test_similarity_matches_reference": '''\
_a, _b = _randn(5, 7, seed=1), _randn(3, 7, seed=2)
_assert_close(pairwise_cosine_similarity(_a, _b), _ref.pairwise_cosine_similarity(_a, _b))
''',
    "test_similarity_rectangular_scaled": '''\
_a = _randn(4, 3, seed=3) * _torch.tensor([[1e-3], [1.0], [50.0], [7.0]], dtype=_torch.float64)
_b = _randn(6, 3, seed=4)
_assert_close(pairwise_cosine_similarity(_a, _b), _ref.pairwise_cosine_similarity(_a, _b))
''',
    "test_similarity_zero_rows_finite": '''\
_a = _torch.cat([_torch.zeros(1, 4, dtype=_torch.float64), _randn(2, 4, seed=5)])
_assert_close(pairwise_cosine_similarity(_a, _a), _ref.pairwise_cosine_similarity(_a, _a))
''',
    # --- nt_xent_loss --------------------------------------------------------------------------
    "test_loss_matches_reference": '''\
_z1, _z2 = _randn(8, 16, seed=10), _randn(8, 16, seed=11)
_assert_close(nt_xent_loss(_z1, _z2, 0.5), _ref.nt_xent_loss(_z1, _z2, 0.5))
''',
    "test_loss_other_sizes_and_temperatures": '''\
for _n, _d, _t in [(3, 5, 0.1), (16, 4, 2.0), (2, 3, 1.0)]:
    _z1, _z2 = _randn(_n, _d, seed=_n), _randn(_n, _d, seed=_n + 100)
    _assert_close(nt_xent_loss(_z1, _z2, temperature=_t), _ref.nt_xent_loss(_z1, _z2, _t))
''',
    "test_loss_unnormalised_inputs": '''\
_scale = _torch.logspace(-2, 2, 6, dtype=_torch.float64)[:, None]
_z1, _z2 = _randn(6, 8, seed=20) * _scale, _randn(6, 8, seed=21) * _scale.flip(0)
_assert_close(nt_xent_loss(_z1, _z2, 0.3), _ref.nt_xent_loss(_z1, _z2, 0.3))
''',
    "test_loss_gradients_match": '''\
_z1, _z2 = _randn(5, 6, seed=30), _randn(5, 6, seed=31)
_value, _grads = _value_and_grad(nt_xent_loss, [_z1, _z2], {"temperature": 0.5}, [0, 1])
_r1, _r2 = _z1.clone().requires_grad_(), _z2.clone().requires_grad_()
_expected = _ref.nt_xent_loss(_r1, _r2, 0.5)
_expected.backward()
_assert_close(_value, _expected.detach())
assert _grads[0] is not None and _grads[1] is not None, "no gradient reached z1 or z2"
_assert_close(_grads[0], _r1.grad, "gradient")
_assert_close(_grads[1], _r2.grad, "gradient")
''',
    # --- train_step ----------------------------------------------------------------------------
    "test_two_steps_match_reference": '''\
def _small_model(state):
    model = _ref.SimCLRModel(_ref.SimCLRConfig(**_SMALL))
    model.load_state_dict(state)
    return model


_torch.manual_seed(0)
_state = _ref.SimCLRModel(_ref.SimCLRConfig(**_SMALL)).state_dict()
_images, _labels = _digits("train")
_batches = [(_images[i : i + 16], _images[i + 16 : i + 32]) for i in (0, 32)]
_torch.manual_seed(0)
_expected_model = _small_model(_state)
_expected_opt = _torch.optim.SGD(_expected_model.parameters(), lr=0.05, momentum=0.9)
_expected_losses = [_ref.train_step(_expected_model, _expected_opt, x1, x2, _pair_mse_loss) for x1, x2 in _batches]
_expected_state = _expected_model.state_dict()

_model = _small_model(_state)
_opt = _torch.optim.SGD(_model.parameters(), lr=0.05, momentum=0.9)
_losses = [train_step(_model, _opt, x1, x2, _pair_mse_loss) for x1, x2 in _batches]
_got_state = _model.state_dict()
assert all(isinstance(v, float) for v in _losses)
assert all(_math.isclose(g, e, rel_tol=1e-4) for g, e in zip(_losses, _expected_losses)), (_losses, _expected_losses)
assert set(_got_state) == set(_expected_state)
for _name, _tensor in _expected_state.items():
    _assert_close(_got_state[_name].to(_tensor.dtype), _tensor, "training", what=_name)
''',
    "test_returns_python_float": '''\
_model = _ref.SimCLRModel(_ref.SimCLRConfig(**_SMALL))
_opt = _torch.optim.SGD(_model.parameters(), lr=0.01)
_images, _labels = _digits("train")
_loss = train_step(_model, _opt, _images[:8], _images[8:16], _pair_mse_loss)
assert type(_loss) is float and _math.isfinite(_loss)
''',
    # --- collapse ------------------------------------------------------------------------------
    "test_alignment_only_loss": '''\
_z1, _z2 = _randn(7, 5, seed=40) * 3, _randn(7, 5, seed=41)
_value, _grads = _value_and_grad(alignment_only_loss, [_z1, _z2], {}, [0])
_r1 = _z1.clone().requires_grad_()
_expected = _ref.alignment_only_loss(_r1, _z2)
_expected.backward()
_assert_close(_value, _expected.detach())
_assert_close(_grads[0], _r1.grad, "gradient")
''',
    "test_embedding_std": '''\
_spread = _randn(50, 8, seed=50) * 4
_collapsed = _randn(1, 8, seed=51).repeat(20, 1) + 1e-9 * _randn(20, 8, seed=52)
for _z in (_spread, _collapsed):
    _assert_close(embedding_std(_z), _ref.embedding_std(_z))
''',
    # --- trained_encoder -----------------------------------------------------------------------
    # Like vlcourse, score the encoder the student handed in, not the one the grade-budget training
    # cell has just overwritten: nbgrader runs the notebook in autograded/<student>/<assignment>/,
    # and the handed-in copy stays in submitted/<student>/<assignment>/.
    "test_trained_encoder_probe": '''\
_here = _Path.cwd()
_handed_in = _here.parents[2] / "submitted" / _here.parent.name / _here.name / "simclr_encoder.safetensors"
assert _handed_in.is_file(), f"no handed-in encoder at {_handed_in}"
_train_images, _train_labels = _digits("train")
_test_images, _test_labels = _digits("test")
_features = _ref.extract_features(_ref.load_encoder(_handed_in), _torch.cat([_train_images, _test_images]))
assert _features.ndim == 2 and len(_features) == len(_train_images) + len(_test_images)
assert _torch.isfinite(_features).all()
_n = len(_train_images)
_accuracy = _ref.few_label_probe_accuracy(_features[:_n].float(), _train_labels, _features[_n:].float(), _test_labels, 5)
_metrics = _ref.reference_metrics()
_baseline, _target = _metrics["random_encoder_probe_acc_5pc"], _metrics["probe_acc_5pc"] - 0.05
assert _accuracy > _baseline, f"accuracy {_accuracy:.3f} is not above the random-encoder baseline"
round(_points * min(1.0, max(0.0, (_accuracy - _baseline) / (_target - _baseline))), 4)
''',
}


def check_source(test_name: str, points: float) -> str:
    """Source of the nbgrader test cell for one hidden test: all of it hidden from students."""
    body = PREAMBLE.format(points=points) + "\n\n" + CHECKS[test_name]
    return f"# Hidden check mirroring {test_name} (vlcourse grader/01_simclr)\n### BEGIN HIDDEN TESTS\n{body}### END HIDDEN TESTS"

"""Seeds of a run and of each fit in it.

``keras.utils.set_random_seed`` seeds Python, NumPy, Keras' global ``SeedGenerator``
and TensorFlow. TensorFlow's part, ``tf.random.set_seed``, also clears the eager
context's kernel cache (so that stateful random kernels restart from the new seed):
every function traced before is instantiated again at its next call, its graph rewritten
by Grappler. Seeding every split that way cost the next fit's first call ~0.12-0.2 s
(the compiled head's training loop, 25 passes of which take ~0.06 s; a musicnn split of
gtzan_mini, 2 cores), a fifth of a split.

So the run seeds everything once (``seed_run``) and each fit seeds what its model draws
from (``seed_fit``): Python's ``random`` (where Keras' initializers and ``Dropout``
take their seeds when given none) and NumPy. Ops that read TensorFlow's global seed
pair it with their own: a dataset's shuffle with the fit's seed, so within a run its
order is the fit's whatever ran before it in the process (code that fits outside
``run_experiment``, tests and benches, calls ``seed_run`` first); the spectrogram
crops (an unseeded ``tf.random.uniform`` in the front end's dataset function) with the
op's id in its traced function, so every split now draws the crops the run's seed
gives, where each split drew its own before. Keras' global ``SeedGenerator``
(``keras.random`` calls without a seed) is left as the run set it: no layer here draws
from it.
"""

import random

import keras
import numpy as np


def seed_run(seed):
    """Python, NumPy, Keras and TensorFlow, from the run's ``--seed``: once per run."""
    keras.utils.set_random_seed(seed)


def seed_fit(seed):
    """Python and NumPy, from one fit's seed (see the module docstring)."""
    random.seed(seed)
    np.random.seed(seed)

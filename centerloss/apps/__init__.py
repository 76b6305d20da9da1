"""The programs built on the library: each one a user runs rather than imports.

* ``cli``: ``python -m centerloss`` (``demo``, ``reproduce``, ``--version``);
* ``demo``: train with and without center loss, write the figures;
* ``reproduce``: the paper's MNIST experiment at the authors' settings, resumable;
* ``playground``: the widget app of lesson 06;
* ``runtime``: a quiet TensorFlow import and a description of the machine.

They import the library (``centerloss.recipe``, ``centerloss.plots``, ...); the
library never imports them (``tests/test_layers.py`` checks it).
"""

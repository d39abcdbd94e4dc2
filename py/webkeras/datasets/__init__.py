"""keras.datasets: the Keras datasets, offline, loaded the same way natively and in the tab.

See `webkeras.datasets.registry` for where each one comes from and `fetch` for how files are
found and verified.
"""

from webkeras.datasets import boston_housing  # noqa: F401
from webkeras.datasets import cifar10  # noqa: F401
from webkeras.datasets import cifar100  # noqa: F401
from webkeras.datasets import fashion_mnist  # noqa: F401
from webkeras.datasets import imdb  # noqa: F401
from webkeras.datasets import mnist  # noqa: F401
from webkeras.datasets import reuters  # noqa: F401

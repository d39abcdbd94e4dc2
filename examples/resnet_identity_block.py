"""ResnetIdentityBlock: a subclassed Model from the "custom layers" tutorial."""

import numpy as np
import webkeras as keras


class ResnetIdentityBlock(keras.Model):
    def __init__(self, kernel_size, filters):
        super().__init__()
        filters1, filters2, filters3 = filters

        self.conv2a = keras.layers.Conv2D(filters1, (1, 1))
        self.bn2a = keras.layers.BatchNormalization()

        self.conv2b = keras.layers.Conv2D(filters2, kernel_size, padding="same")
        self.bn2b = keras.layers.BatchNormalization()

        self.conv2c = keras.layers.Conv2D(filters3, (1, 1))
        self.bn2c = keras.layers.BatchNormalization()

    def call(self, input_tensor, training=False):
        x = self.conv2a(input_tensor)
        x = self.bn2a(x, training=training)
        x = keras.ops.relu(x)

        x = self.conv2b(x)
        x = self.bn2b(x, training=training)
        x = keras.ops.relu(x)

        x = self.conv2c(x)
        x = self.bn2c(x, training=training)

        x += input_tensor
        return keras.ops.relu(x)


block = ResnetIdentityBlock(1, [1, 2, 3])
_ = block(np.zeros([1, 2, 3, 3], "float32"))
print([layer.name for layer in block.layers])
print(len(block.variables))
block.summary()

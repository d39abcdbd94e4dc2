# The functional API with several inputs and outputs (keras.io's "ticket classification"
# example): title + body text + tags in, priority (regression) + department (classification)
# out, weighted with loss_weights. Random data, as in the guide.
import keras
import numpy as np
from keras import layers

SMALL = True

num_tags, num_words, num_departments = 12, 10000, 4
keras.utils.set_random_seed(0)

title_input = keras.Input(shape=(None,), name="title")
body_input = keras.Input(shape=(None,), name="body")
tags_input = keras.Input(shape=(num_tags,), name="tags")
title_features = layers.Embedding(num_words, 64)(title_input)
body_features = layers.Embedding(num_words, 64)(body_input)
title_features = layers.LSTM(128 if not SMALL else 32)(title_features)
body_features = layers.LSTM(32 if not SMALL else 16)(body_features)
x = layers.concatenate([title_features, body_features, tags_input])
priority_pred = layers.Dense(1, name="priority")(x)
department_pred = layers.Dense(num_departments, name="department")(x)
model = keras.Model(inputs=[title_input, body_input, tags_input],
                    outputs={"priority": priority_pred, "department": department_pred})
model.summary()

model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss={"priority": keras.losses.BinaryCrossentropy(from_logits=True),
          "department": keras.losses.CategoricalCrossentropy(from_logits=True)},
    loss_weights={"priority": 1.0, "department": 0.2},
)
n = 256 if SMALL else 1280
title_data = np.random.randint(num_words, size=(n, 10))
body_data = np.random.randint(num_words, size=(n, 100 if not SMALL else 20))
tags_data = np.random.randint(2, size=(n, num_tags)).astype("float32")
priority_targets = np.random.random(size=(n, 1))
dept_targets = np.random.randint(2, size=(n, num_departments))
model.fit({"title": title_data, "body": body_data, "tags": tags_data},
          {"priority": priority_targets, "department": dept_targets},
          epochs=2, batch_size=32)
out = model.predict({"title": title_data[:2], "body": body_data[:2], "tags": tags_data[:2]},
                    verbose=0)
print({name: value.shape for name, value in out.items()})

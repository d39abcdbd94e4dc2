"""The tutorials' IMDB sentiment LSTM, unchanged but for the import line.

Embedding(20000, 128) -> LSTM(128, dropout=0.2, recurrent_dropout=0.2) -> Dense(1, sigmoid),
sequences padded to 80 words. Run: python examples/imdb_lstm.py [epochs]
"""

import sys
import time

import webkeras as keras
from webkeras.preprocessing import sequence

max_features, maxlen, batch_size = 20000, 80, 32
epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 1

(x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=max_features)
x_train = sequence.pad_sequences(x_train, maxlen=maxlen)
x_test = sequence.pad_sequences(x_test, maxlen=maxlen)
print("x_train shape:", x_train.shape, "x_test shape:", x_test.shape)

keras.utils.set_random_seed(1)
model = keras.Sequential([
    keras.Input(shape=(maxlen,)),
    keras.layers.Embedding(max_features, 128),
    keras.layers.LSTM(128, dropout=0.2, recurrent_dropout=0.2),
    keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
start = time.time()
model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=2)
print(f"fit time: {time.time() - start:.0f}s")
score, accuracy = model.evaluate(x_test, y_test, batch_size=batch_size, verbose=0)
print(f"Test score: {score:.4f}")
print(f"Test accuracy: {accuracy:.4f}")

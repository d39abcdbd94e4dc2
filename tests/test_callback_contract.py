"""The callback contract of the Keras guide "Writing your own callbacks": every hook gets a
logs dict (possibly empty), never None, with the keys Keras 3 passes."""

import numpy as np

import webkeras as keras

SEEN = []


class CustomCallback(keras.callbacks.Callback):
    """The guide's callback: every hook lists `logs.keys()`."""

    def on_train_begin(self, logs=None):
        keys = list(logs.keys())
        SEEN.append(("Starting training", keys))

    def on_train_end(self, logs=None):
        keys = list(logs.keys())
        SEEN.append(("Stop training", keys))

    def on_epoch_begin(self, epoch, logs=None):
        keys = list(logs.keys())
        SEEN.append((f"Start epoch {epoch}", keys))

    def on_epoch_end(self, epoch, logs=None):
        keys = list(logs.keys())
        SEEN.append((f"End epoch {epoch}", keys))

    def on_test_begin(self, logs=None):
        keys = list(logs.keys())
        SEEN.append(("Start testing", keys))

    def on_test_end(self, logs=None):
        keys = list(logs.keys())
        SEEN.append(("Stop testing", keys))

    def on_predict_begin(self, logs=None):
        keys = list(logs.keys())
        SEEN.append(("Start predicting", keys))

    def on_predict_end(self, logs=None):
        keys = list(logs.keys())
        SEEN.append(("Stop predicting", keys))

    def on_train_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        SEEN.append((f"Training: start of batch {batch}", keys))

    def on_train_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        SEEN.append((f"Training: end of batch {batch}", keys))

    def on_test_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        SEEN.append((f"Evaluating: start of batch {batch}", keys))

    def on_test_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        SEEN.append((f"Evaluating: end of batch {batch}", keys))

    def on_predict_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        SEEN.append((f"Predicting: start of batch {batch}", keys))

    def on_predict_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        SEEN.append((f"Predicting: end of batch {batch}", keys))


def get_model():
    model = keras.Sequential()
    model.add(keras.layers.Dense(1))
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
                  loss="mean_squared_error", metrics=["mean_absolute_error"])
    return model


def data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 20)).astype("float32")
    return x, x.sum(axis=1)


METRICS = ["loss", "mean_absolute_error"]


def test_the_guides_custom_callback_sees_keras_3_keys_in_fit_evaluate_predict():
    x_train, y_train = data()
    x_test, y_test = data(128, seed=1)
    model = get_model()
    SEEN.clear()
    model.fit(x_train, y_train, batch_size=128, epochs=1, verbose=0, validation_split=0.5,
              callbacks=[CustomCallback()])
    assert SEEN == [
        ("Starting training", []),
        ("Start epoch 0", []),
        ("Training: start of batch 0", []),
        ("Training: end of batch 0", METRICS),
        ("Start testing", []),
        ("Evaluating: start of batch 0", []),
        ("Evaluating: end of batch 0", METRICS),
        ("Stop testing", METRICS),
        ("End epoch 0", METRICS + ["val_loss", "val_mean_absolute_error"]),
        ("Stop training", METRICS + ["val_loss", "val_mean_absolute_error"]),
    ]
    SEEN.clear()
    model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[CustomCallback()])
    assert SEEN == [("Start testing", []), ("Evaluating: start of batch 0", []),
                    ("Evaluating: end of batch 0", METRICS), ("Stop testing", METRICS)]
    SEEN.clear()
    model.predict(x_test, batch_size=128, verbose=0, callbacks=[CustomCallback()])
    assert SEEN == [("Start predicting", []), ("Predicting: start of batch 0", []),
                    ("Predicting: end of batch 0", ["outputs"]), ("Stop predicting", [])]


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.lines = []

    def on_train_batch_end(self, batch, logs=None):
        self.lines.append(f"Up to batch {batch}, the average loss is {logs['loss']:7.2f}.")

    def on_test_batch_end(self, batch, logs=None):
        self.lines.append(f"Up to batch {batch}, the average loss is {logs['loss']:7.2f}.")

    def on_epoch_end(self, epoch, logs=None):
        self.lines.append(f"The average loss for epoch {epoch} is {logs['loss']:7.2f} and "
                          f"mean absolute error is {logs['mean_absolute_error']:7.2f}.")


def test_the_guides_logs_dict_usage():
    x_train, y_train = data()
    model = get_model()
    callback = LossAndErrorPrintingCallback()
    model.fit(x_train, y_train, batch_size=128, epochs=2, verbose=0, callbacks=[callback])
    model.evaluate(x_train, y_train, batch_size=128, verbose=0, callbacks=[callback])
    assert len(callback.lines) == 2 * 3 + 2


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
    """The guide's early stopping: keeps the best weights with get/set_weights."""

    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                self.model.set_weights(self.best_weights)


class CustomLearningRateScheduler(keras.callbacks.Callback):
    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule
        self.rates = []

    def on_epoch_begin(self, epoch, logs=None):
        lr = self.model.optimizer.learning_rate
        scheduled_lr = self.schedule(epoch, float(keras.ops.convert_to_numpy(lr)))
        self.model.optimizer.learning_rate = scheduled_lr
        self.rates.append(scheduled_lr)


def test_the_guides_early_stopping_and_scheduler_callbacks():
    x_train, y_train = data()
    model = get_model()
    stopper = EarlyStoppingAtMinLoss(patience=1)
    scheduler = CustomLearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)
    model.fit(x_train, y_train, batch_size=64, epochs=6, verbose=0,
              callbacks=[stopper, scheduler])
    assert scheduler.rates[:2] == [0.10000000149011612, 0.05000000074505806]
    assert stopper.best < np.inf


def test_hooks_called_directly_on_a_callback_list_get_a_dict():
    got = []

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            got.append(logs)

        def on_train_batch_begin(self, batch, logs=None):
            got.append(logs)

    callbacks = keras.callbacks.CallbackList([Recorder()])
    callbacks.on_train_begin()
    callbacks.on_train_batch_begin(0)
    assert got == [{}, {}]

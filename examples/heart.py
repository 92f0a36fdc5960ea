"""Heart disease (AHD) from the course's Heart.csv with the Python API.

Same pipeline and seed as ``chainrule train Heart.csv --target AHD --seed 0``, so it prints
the same test metrics:

    python examples/heart.py [path/to/Heart.csv]
"""

import sys

import chainrule as cr
from chainrule import nn
from chainrule.train import EarlyStopping, evaluate, fit, head_for, make_optimizer

SEED = 0
path = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/Heart.csv"

# 1. data: rows with NA dropped (and reported), one-hot categories, standardized numbers,
#    stratified 60/20/20 train/validation/test split
ds = cr.data.load_csv(path, target="AHD", val_split=0.2, test_split=0.2, seed=SEED)
print(ds.report)

# 2. the output unit from the course's table: binary -> 1 sigmoid unit + BCEWithLogitsLoss
head = head_for(ds.task, n_classes=ds.n_classes)
print("output unit:", head.describe())

# 3. the model: two hidden ReLU layers of 64 units with dropout 0.2
cr.manual_seed(SEED)
model = nn.Sequential(
    nn.Linear(ds.n_features, 64), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.2),
    head.layer(64),
)
optimizer = make_optimizer("adam", model.parameters(), lr=None, weight_decay=1e-2)

# 4. training with early stopping on the validation loss
train = (ds.X_train, head.target(ds.y_train))
val = (ds.X_val, head.target(ds.y_val))
test = (ds.X_test, head.target(ds.y_test))
history = fit(model, train, loss=head.loss(), optimizer=optimizer, epochs=300, batch_size=32,
              val=val, metrics=["accuracy"], seed=SEED, verbose=0,
              callbacks=[EarlyStopping("val_loss", patience=20, restore_best_weights=True)])
print(f"trained {len(history)} epochs (early stopping: {history.stopped_early})")

# 5. evaluation
names = ["accuracy", "precision", "recall", "f1", "roc_auc"]
for split, data in (("train", train), ("val", val), ("test", test)):
    res = evaluate(model, data, loss=head.loss(), metrics=names)
    print(f"{split:5s} " + "  ".join(f"{k} {v:.4f}" for k, v in res.items()))

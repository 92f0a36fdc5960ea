"""Heart disease (AHD) from the course's Heart data with the Python API.

The same recipe and seed as ``chainrule train heart --target AHD --seed 0``, step by step,
so it prints the same test metrics:

    python examples/heart.py
"""

import chainrule as cr
from chainrule.train import EarlyStopping, evaluate, fit, head_for, make_optimizer, predict
from chainrule.train.run import metric_names
from chainrule.train.rundir import build_mlp
from chainrule.train.select import candidates, choose, mean_and_se, plan
from chainrule.train.tasks import row_losses

SEED = 0

# 1. data: the Heart table shipped with chainrule; rows with NA dropped (and reported),
#    one-hot categories, standardized numbers, stratified 60/20/20 train/val/test split
ds = cr.data.heart(val_split=0.2, test_split=0.2, seed=SEED)
print(ds.report)

# 2. the output unit from the course's table: binary -> 1 sigmoid unit + BCEWithLogitsLoss
head = head_for(ds.task, n_classes=ds.n_classes)
print("output unit:", head.describe())
train = (ds.X_train, head.target(ds.y_train))
val = (ds.X_val, head.target(ds.y_val))
test = (ds.X_test, head.target(ds.y_test))

# 3. the model search: a linear model and two MLPs, each with early stopping on the
#    validation loss; keep the simplest within one standard error of the best
p = plan(ds.X_train.shape[0])
models, results = [], []
for c in candidates(ds.X_train.shape[0]):
    cr.manual_seed(SEED)
    model = build_mlp(ds.n_features, c.hidden, "relu", c.dropout, head)
    model[len(model) - 1].bias._data[...] = head.null_bias(ds.y_train)  # the null model
    opt = make_optimizer("adam", model.parameters(), lr=c.lr * p["lr_scale"],
                         weight_decay=c.weight_decay)
    history = fit(model, train, loss=head.loss(), optimizer=opt, epochs=p["epochs"],
                  batch_size=p["batch_size"], val=val, metrics=["accuracy"], seed=SEED,
                  verbose=0, callbacks=[EarlyStopping("val_loss", patience=p["patience"],
                                                      restore_best_weights=True)])
    loss, se = mean_and_se(row_losses(head.task, predict(model, val[0]), val[1]))
    print(f"{c.label}: {len(history)} epochs, validation loss {loss:.4f} +- {se:.4f}")
    models.append(model)
    results.append({"val_loss": loss, "val_se": se})
k, why = choose(results)
print(f"kept: {k + 1} ({why})")

# 4. evaluation of the kept model
for split, data in (("train", train), ("val", val), ("test", test)):
    res = evaluate(models[k], data, loss=head.loss(), metrics=metric_names(head.task))
    print(f"{split:5s} " + "  ".join(f"{name} {v:.4f}" for name, v in res.items()))

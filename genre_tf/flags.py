"""Every command-line flag of genre_tf, defined once, grouped by concern.

``train.py`` and ``tuner.py`` import this module; flag files (``mlp.flags``...) at the
project root set them. A flag means the same in every command.
"""

import os

from absl import flags

DEFAULT_CACHE_DIR = os.environ.get(
    "GENRE_TF_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "genre_tf"))

# --- Data -----------------------------------------------------------------------------
flags.DEFINE_string(
    "data_dir", None,
    "Audio root in GTZAN layout (<root>/<genre>/<clip>.wav|.au|.flac|...; a nesting "
    "genres_original/ folder is found), or a path,label CSV manifest. Unset: the "
    "synthetic demo dataset (not music; for checking the pipeline).")
flags.DEFINE_string(
    "features_csv", None,
    "A features table (columns filename,[length,]<features>,label, e.g. GTZAN's "
    "features_30_sec.csv) for the MLP instead of audio; rows of one song stay together.")
flags.DEFINE_enum("split", "shuffle", ["shuffle", "kfold", "fixed"],
                  "Song-level splits: stratified shuffle splits (the study), stratified "
                  "K-fold, or the fixed lists in --split_dir.")
flags.DEFINE_string("split_dir", None,
                    "Folder with train.txt, valid.txt, test.txt (e.g. the fault-filtered "
                    "GTZAN split) for --split=fixed.")
flags.DEFINE_integer("folds", 5, "Number of shuffle splits or K-fold folds.")
flags.DEFINE_float("test_size", 0.2, "Share of songs held out per shuffle split.")
flags.DEFINE_float("validation_fraction", 0.1,
                   "Share of each split's training songs kept for early stopping.")
flags.DEFINE_enum("short_clips", "pad", ["pad", "skip"],
                  "Clips shorter than a system needs: zero-pad them or skip them "
                  "(a warning names each).")
flags.DEFINE_integer("demo_clips_per_genre", 8,
                     "Clips per genre of the synthetic demo dataset.")

# --- System ---------------------------------------------------------------------------
flags.DEFINE_string("system", "mlp", "Which system to train: mlp.")

# --- Feature statistics (system 1) ----------------------------------------------------
flags.DEFINE_list("window_sizes", ["512", "1024", "2048", "4096"],
                  "STFT sizes (n_fft) the features are summarised at; hop is n_fft/4.")
flags.DEFINE_list("statistics", ["mean", "std"],
                  "Statistics over frames: mean, std, skew, kurtosis, min, max.")
flags.DEFINE_integer("n_mfcc", 20, "MFCC coefficients per frame.")
flags.DEFINE_boolean("tempo", True, "Append the global tempo estimate (BPM).")

# --- Model heads ----------------------------------------------------------------------
flags.DEFINE_integer("hidden_units", 0,
                     "MLP hidden width; 0: mean of input and class counts (the study).")
flags.DEFINE_float("dropout", 0.5, "Dropout rate of the head.")

# --- Training -------------------------------------------------------------------------
flags.DEFINE_float("learning_rate", 1e-4, "Adam's initial learning rate.")
flags.DEFINE_integer("epochs", 300, "Most epochs per fit.")
flags.DEFINE_integer("batch_size", 32, "Examples per step.")
flags.DEFINE_integer("patience", 30,
                     "Early-stopping patience in epochs on val_loss (0: off).")
flags.DEFINE_float("min_delta", 0.0, "Smallest val_loss improvement that counts.")
flags.DEFINE_integer("lr_decay_every", 0,
                     "Step decay: multiply the learning rate by --lr_decay_factor every "
                     "this many epochs (0: constant).")
flags.DEFINE_float("lr_decay_factor", 0.1, "See --lr_decay_every.")
flags.DEFINE_integer("log_every_epochs", 10,
                     "One progress line per this many epochs; 0: Keras' progress bar.")
flags.DEFINE_boolean("final_fit", True,
                     "After cross-validation, train on all songs and export that model.")

# --- Outputs, caching, reproducibility ------------------------------------------------
flags.DEFINE_string("run_name", None,
                    "Name of the run folder; default: the system name (+ _demo).")
flags.DEFINE_string("output_dir", None, "Run folder; default saved_models/<run_name>.")
flags.DEFINE_string("cache_dir", DEFAULT_CACHE_DIR,
                    "Feature/embedding cache and demo data (env GENRE_TF_CACHE); empty "
                    "string: no cache.")
flags.DEFINE_integer("seed", 0, "Seed of splits, initialisation and shuffling.")

FLAGS = flags.FLAGS

"""The flags of a run, defined once, grouped by concern.

``train.py`` and ``tuner.py`` import this module and adopt its flags as their own (so
``--helpshort`` lists them); flag files (``mlp.flags``...) at the project root set them.
A flag means the same in every command. Only ``genre_tf.cli`` reads them: it turns them
into the config objects of ``genre_tf.config``.
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
flags.DEFINE_enum("short_clips", "repeat", ["repeat", "pad", "skip"],
                  "Input shorter than a front end needs (training clips, excerpts and "
                  "the exported model's input alike): repeat it until it fills the "
                  "window, zero-pad it, or skip it (a warning names each clip).")
flags.DEFINE_float("excerpt_seconds", 2.5,
                   "Also score random excerpts of this length of every split's test "
                   "songs (snippet accuracy in metrics.json); 0: off. Changes no training.")
flags.DEFINE_integer("excerpts_per_song", 4,
                     "Evaluation excerpts per test song (fixed seed, random offsets).")
flags.DEFINE_integer("train_excerpts_per_song", 0,
                     "Add this many random short excerpts of every training song, filled "
                     "by --short_clips, to its training examples, so the head learns "
                     "snippets too (0: whole clips only, the study).")
flags.DEFINE_list("train_excerpt_seconds", ["1.0", "3.0"],
                  "Shortest and longest training excerpt, seconds.")
flags.DEFINE_integer("demo_clips_per_genre", 8,
                     "Clips per genre of the synthetic demo dataset.")

# --- System ---------------------------------------------------------------------------
flags.DEFINE_enum("system", "mlp", ["mlp", "cnn", "embedding"],
                  "Which system to train: mlp (feature statistics), cnn (spectrograms), "
                  "embedding (pretrained backbone + dense head).")

# --- Feature statistics (system 1) ----------------------------------------------------
flags.DEFINE_list("window_sizes", ["512", "1024", "2048", "4096"],
                  "STFT sizes (n_fft) the features are summarised at; hop is n_fft/4.")
flags.DEFINE_list("statistics", ["mean", "std"],
                  "Statistics over frames: mean, std, skew, kurtosis, min, max.")
flags.DEFINE_integer("n_mfcc", 20, "MFCC coefficients per frame.")
flags.DEFINE_boolean("tempo", True, "Append the global tempo estimate (BPM).")

# --- Spectrograms (system 2) ---------------------------------------------------------
flags.DEFINE_list("spectrogram", ["mel"],
                  "Spectrogram types, stacked as channels: stft_db, power_db, phase, "
                  "chroma_stft, chroma_cqt, mfcc, mel, cqt, tempogram, tonnetz.")
flags.DEFINE_integer("n_fft", 1024, "STFT size of the spectrograms (librosa's n_fft).")
flags.DEFINE_integer("hop_length", 512, "Samples between spectrogram frames.")
flags.DEFINE_integer("n_mels", 128, "Mel bands.")
flags.DEFINE_integer("image_size", 512,
                     "Resize each spectrogram to this square side (the study: 512); 0 "
                     "keeps [bins, frames].")
flags.DEFINE_float("crop_seconds", 0.0,
                   "0: crop every clip to the shortest clip (the study). >0: train on "
                   "random crops of this length and vote over all crops of a test song.")
flags.DEFINE_float("crop_hop_seconds", 0.0,
                   "Hop between evaluation crops; 0: half a crop.")
flags.DEFINE_integer("crops_per_song", 1, "Random training crops per song per epoch.")
flags.DEFINE_boolean("spectrogram_cache", False,
                     "Cache deterministic spectrogram images on disk under --cache_dir.")

# --- Pretrained backbones (system 3) --------------------------------------------------
flags.DEFINE_enum("backbone", "MSD_musicnn",
                  ["vggish", "yamnet", "MSD_musicnn", "MTT_musicnn"],
                  "Embedding model: TF-Hub vggish/yamnet, or musicnn (offline, from the "
                  "pip package musicnn).")
flags.DEFINE_string("backbone_handle", None,
                    "TF-Hub handle or local SavedModel folder of a hub backbone; default "
                    "the published handle (https://tfhub.dev/google/vggish/1). "
                    "Downloads go to TFHUB_CACHE_DIR if set, else under --cache_dir.")
flags.DEFINE_string("backbone_layer", None,
                    "musicnn embedding: max_pool (default), mean_pool, penultimate, "
                    "taggram, pooled.")
flags.DEFINE_boolean("finetune_top", False,
                     "musicnn: also train the pretrained top (pooled -> dense 200) with "
                     "the head, from cached pooled features.")
flags.DEFINE_float("frame_hop_seconds", 0.0,
                   "Hop between backbone frames; 0: the backbone's own (VGGish 0.96 s, "
                   "musicnn 3 s).")

# --- Model heads ----------------------------------------------------------------------
flags.DEFINE_list("hidden_units", ["0"],
                  "Widths of the dense head's hidden layers; 0: mean of input and class "
                  "counts (the study's MLP).")
flags.DEFINE_float("dropout", 0.5, "Dropout rate of the head.")
flags.DEFINE_float("head_l2", 0.0,
                   "Dense head: L2 penalty on its kernels' weights, added to the loss "
                   "(0: none). ~1/(2 C rows) matches LogisticRegression(C).")
flags.DEFINE_integer("final_conv_dim", 4,
                     "CNN: conv blocks are added until the map is this side (the study: 4).")
flags.DEFINE_integer("base_filters", 16,
                     "CNN: filters of the first block, doubled per block.")
flags.DEFINE_integer("max_filters", 256, "CNN: most filters of a block.")
flags.DEFINE_integer("fc_units", 256, "CNN: first fully connected width; the next is half.")
flags.DEFINE_boolean("batch_norm", False, "CNN: batch normalisation after each conv.")
flags.DEFINE_boolean("spec_augment", False,
                     "CNN: SpecAugment frequency/time masking while training.")
flags.DEFINE_enum("standardization", "global", ["global", "per_band"],
                  "CNN: standardise the input by one training-set mean and variance "
                  "(the study) or by one per frequency band.")
flags.DEFINE_enum("classifier", "fc", ["fc", "global_pool", "time_pool"],
                  "CNN: after the conv blocks, flatten -> FC -> FC/2 (the study), or "
                  "straight to the softmax from the mean of each feature map "
                  "(global_pool) or from its mean over time, band by band (time_pool).")

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
flags.DEFINE_enum("lr_schedule", "step", ["step", "cosine"],
                  "step: constant, or --lr_decay_every's step decay; cosine: a linear "
                  "warm-up from 0 over --lr_warmup_epochs, then a cosine decay to 0 at "
                  "--epochs, changed every step (full-batch heads: see musicnn.flags).")
flags.DEFINE_integer("lr_warmup_epochs", 0,
                     "--lr_schedule=cosine: epochs (passes) of linear warm-up.",
                     lower_bound=0)
flags.DEFINE_boolean("jit_compile", False,
                     "Compile the training step with XLA: ~2x faster steps of a "
                     "full-batch linear head on many values (musicnn.flags), one compile "
                     "per row count; slower for small batches.")
flags.DEFINE_integer("log_every_epochs", 10,
                     "One progress line per this many epochs; 0: Keras' line per epoch.")
flags.DEFINE_integer("epochs_per_call", 1,
                     "Passes over the training data per Keras epoch (one call of the "
                     "training function; validation, early stopping and history rows "
                     "every this many passes): a small head's pass is far shorter than "
                     "Keras' per-epoch work. --epochs, --patience and --lr_decay_every "
                     "count passes.", lower_bound=1)
flags.DEFINE_boolean("refit", False,
                     "After each fit that stops early on valid songs, train a fresh head "
                     "(same seed) on train+valid songs for the epochs early stopping "
                     "chose (--patience=0: --epochs, no early-stopped fit), and evaluate "
                     "or export that one (split folders: refit/).")
flags.DEFINE_boolean("final_fit", True,
                     "After cross-validation, train on all songs and export that model.")
flags.DEFINE_boolean("tflite", True,
                     "Also convert the exported model's classify_waveform (raw audio in) "
                     "to model.tflite.")
flags.DEFINE_boolean("tflite_quantize", False,
                     "float16 weights in model.tflite (~60% of the size; small constants and "
                     "vectors stay float32; check its answers on your audio).")

# --- Outputs, caching, reproducibility ------------------------------------------------
flags.DEFINE_string("run_name", None,
                    "Name of the run folder; default: the system name (+ _demo).")
flags.DEFINE_string("output_dir", None, "Run folder; default saved_models/<run_name> "
                    "(tuner.py: saved_models/<run_name>_tuning).")
flags.DEFINE_boolean("overwrite", False,
                     "Clear the outputs of an earlier run in the run folder first. Without "
                     "it a rerun of the same run resumes, and a folder holding another "
                     "run (other settings or data) is refused.")
flags.DEFINE_string("cache_dir", DEFAULT_CACHE_DIR,
                    "Feature/embedding cache and demo data (env GENRE_TF_CACHE); empty "
                    "string: no cache.")
flags.DEFINE_integer("seed", 0, "Seed of splits, initialisation and shuffling.")

# --- Scale: the feature store, extraction workers, distributed training ---------------
flags.DEFINE_integer("memory_budget_mb", 1024,
                     "A split's stored feature rows up to this size are cached in memory; "
                     "larger ones stream from the store with a bounded shuffle buffer.")
flags.DEFINE_integer("num_shards", 1,
                     "Extraction workers in all. >1: this process only extracts its slice "
                     "of the clips (--shard_index) into the store under --cache_dir and "
                     "exits; a run without --num_shards then trains on every slice.")
flags.DEFINE_integer("shard_index", 0, "This extraction worker's slice: 0..num_shards-1.")
flags.DEFINE_enum("distribution", "none", ["none", "mirrored", "multi_worker"],
                  "Training under tf.distribute: none; mirrored (every local GPU, one "
                  "process); multi_worker (MultiWorkerMirroredStrategy over the processes "
                  "in the TF_CONFIG environment variable, each running train.py with the "
                  "same flags; only the chief writes outputs).")

FLAGS = flags.FLAGS

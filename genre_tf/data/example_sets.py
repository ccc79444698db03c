"""Which ``ExampleSet`` a front end's examples live in, built from a ``ClipIndex``.

Front ends whose examples are a pure function of the audio are extracted once into the
feature store (``stored_examples``); those that draw new random crops every epoch are
recomputed from audio (``examples.StreamedExamples``).
"""

from genre_tf.data import examples, extraction


def build_examples(index, frontend, config, report=None,
                   extraction_slice=extraction.ExtractionSlice()):
    """The examples of every usable clip of ``index`` through ``frontend``.

    Returns None for one extraction worker of several (it extracts its slice only).
    """
    if frontend.cacheable:
        return extraction.extract(index, frontend, config, report, extraction_slice)
    if extraction_slice.num_shards > 1:
        raise ValueError(f"--num_shards: the {frontend.key} front end streams its "
                         "examples from audio; there is nothing to extract")
    return examples.StreamedExamples(index, frontend, config, report)

"""The ten spectrogram types against librosa, with known answers, on synthetic and real
audio.

Exact (float32 rounding) for everything librosa computes the same way; for the CQT family,
exact against librosa's composition of the same steps (pseudo-CQT, 12-bin fold, tonnetz)
and, loosely, correlated with librosa's defaults (multi-rate CQT, 36-bin chroma), as
documented in ``genre_tf/features/spectrograms.py``.
"""

import librosa
import numpy as np
import tensorflow as tf

from genre_tf.features import librosa_reference, spectrograms as S
from tests import fixtures

SR = fixtures.SR
CONFIG = S.SpectrogramConfig()


def _librosa_reference(y):
    """librosa's spectrograms, [frames, bins], computed as each type is defined."""
    return {kind: librosa_reference.spectrogram(y, kind, CONFIG)
            for kind in S.SPECTROGRAM_TYPES}


class SpectrogramParityTest(tf.test.TestCase):

    def _check_all(self, y):
        reference = _librosa_reference(y)
        for kind in S.SPECTROGRAM_TYPES:
            with self.subTest(kind=kind):
                ours = np.asarray(S.compute_spectrogram(y, kind, CONFIG))
                expected = reference[kind]
                self.assertEqual(ours.shape, (1 + y.size // 512, CONFIG.n_bins(kind)))
                self.assertEqual(ours.shape, expected.shape)
                if kind == "phase":  # compare angles on the circle
                    difference = np.angle(np.exp(1j * (ours - expected)))
                    level_db = reference["stft_db"]
                    # Phase is noise where a bin is far below the peak.
                    strong = level_db > level_db.max() - 60
                    self.assertLess(np.max(np.abs(difference[strong])), 1e-2)
                    continue
                scale = max(np.abs(expected).max(), 1e-6)
                tolerance = (5e-5 if kind in ("stft_db", "power_db", "cqt", "mel", "mfcc")
                             else 2e-5) * scale
                self.assertAllClose(ours, expected, atol=tolerance, rtol=0)

    def test_matches_librosa_on_synthetic_audio(self):
        self._check_all(fixtures.music_like(4.0))

    def test_matches_librosa_on_real_music(self):
        clips = fixtures.real_clips(2)
        if not clips:
            self.skipTest(f"{fixtures.MINI_GTZAN} absent")
        for path in clips:
            self._check_all(librosa.load(path, sr=SR, duration=6.0)[0])

    def test_cqt_family_tracks_librosa_defaults_on_real_music(self):
        clips = fixtures.real_clips(3)
        if not clips:
            self.skipTest(f"{fixtures.MINI_GTZAN} absent")
        for path in clips:
            y = librosa.load(path, sr=SR, duration=10.0)[0]
            cqt = np.asarray(S.compute_spectrogram(y, "cqt")).T
            full = librosa.amplitude_to_db(np.abs(librosa.cqt(y, sr=SR, tuning=0.0)))
            self.assertGreater(np.corrcoef(cqt.ravel(), full.ravel())[0, 1], 0.7)
            chroma = np.asarray(S.compute_spectrogram(y, "chroma_cqt")).T
            default = librosa.feature.chroma_cqt(y=y, sr=SR, tuning=0.0)
            self.assertGreater(np.corrcoef(chroma.ravel(), default.ravel())[0, 1], 0.5)


class KnownAnswerTest(tf.test.TestCase):

    def test_a440_lands_on_a4_and_pitch_class_a(self):
        y = fixtures.tone(440.0, seconds=3.0)
        cqt = np.asarray(S.compute_spectrogram(y, "cqt"))[10:-10]
        self.assertEqual(int(np.median(np.argmax(cqt, axis=1))), 45)  # C1 + 45 semitones
        for kind in ("chroma_cqt", "chroma_stft"):
            chroma = np.asarray(S.compute_spectrogram(y, kind))[10:-10]
            self.assertEqual(int(np.argmax(chroma.mean(axis=0))), 9, kind)

    def test_tonnetz_of_a_major_triad_differs_from_a_minor_triad(self):
        def triad(third):
            return sum(fixtures.tone(220.0 * 2 ** (s / 12), 2.0) for s in (0, third, 7))
        major = np.asarray(S.compute_spectrogram(triad(4), "tonnetz")).mean(axis=0)
        minor = np.asarray(S.compute_spectrogram(triad(3), "tonnetz")).mean(axis=0)
        # Same fifth, different thirds: the fifth axes agree, the third axes do not.
        self.assertAllClose(major[:2], minor[:2], atol=0.05)
        self.assertGreater(np.abs(major[2:] - minor[2:]).max(), 0.1)

    def test_tempogram_of_a_click_track_peaks_at_the_beat_period(self):
        tempogram = np.asarray(S.compute_spectrogram(fixtures.click_track(120.0), "tempogram"))
        mean = tempogram.mean(axis=0)
        beat_lag = 60.0 / 120.0 * SR / 512  # ~21.5 frames
        self.assertAllClose(np.argmax(mean[10:40]) + 10, beat_lag, atol=1.0)

    def test_unknown_type_is_refused(self):
        with self.assertRaisesRegex(ValueError, "unknown spectrogram 'spectrum'"):
            S.compute_spectrogram(fixtures.tone(100.0), "spectrum")


if __name__ == "__main__":
    tf.test.main()

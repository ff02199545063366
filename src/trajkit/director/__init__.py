"""GenDoP family: text → camera path.

Motion tagging and captions (:mod:`.tagging`, :mod:`.captions`), the camera tokenizer (:mod:`.tokenizer`), the
autoregressive decoder and its condition streams (:mod:`.model`, :mod:`.conditioning`), checkpoints
(:mod:`.checkpoint`), sampling (:mod:`.sampling`), synthetic data and training (:mod:`.synthetic`,
:mod:`.train`), and the text → camera pipeline with the embedded director (:mod:`.pipeline`).

Only the tagger, captions and tokenizer are imported here (numpy only); the torch parts load on use:

>>> from trajkit.director.pipeline import DirectorPipeline
>>> cameras = DirectorPipeline.load()("slowly push in on the subject", num=2)
"""

from .captions import caption, parse_caption
from .tagging import Segment, tag
from .tokenizer import CameraTokenizer

__all__ = ["CameraTokenizer", "Segment", "caption", "parse_caption", "tag"]

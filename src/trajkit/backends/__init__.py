"""Generation backends: ``preview`` (CPU), ``wan_ati``, ``cogvideox_trajmaster``."""

"""The preview's parts: forward splatting with a z-buffer, hole filling, camera reprojection through depth,
MLS mesh deformation by tracks, and the regions tracks carry. numpy + OpenCV (+ SciPy's k-d tree); no torch."""

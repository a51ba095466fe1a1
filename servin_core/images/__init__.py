"""Images: references, the content store, layer snapshots, the image store."""

"""Customer notifications: a notice list in the portal, and a signed webhook to the business."""

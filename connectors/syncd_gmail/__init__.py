"""The Gmail connector of syncd: replies in, acknowledgement drafts out."""

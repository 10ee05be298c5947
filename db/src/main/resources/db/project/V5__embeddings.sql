-- Search by meaning (#10): each context version's vector from the server's embedding model (all-MiniLM-L6-v2,
-- 384 dimensions, unit length), computed when it is locked and filled in for older versions when a search meets them.
-- Compared in the server (no pgvector needed). NULL where embeddings are off or not computed yet.
ALTER TABLE context_locks ADD COLUMN embedding real[];

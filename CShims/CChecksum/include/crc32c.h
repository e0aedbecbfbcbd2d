#ifndef RTES_CRC32C_H
#define RTES_CRC32C_H

#include <stddef.h>
#include <stdint.h>

// CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected: 0x82F63B78), as iSCSI, ext4 and
// Kafka use it. With SSE4.2 (probed once) eight bytes per instruction; otherwise a
// byte-wise table. No system calls, no allocation, no state beyond the table.

/// Continues a CRC-32C over `length` bytes at `data`: pass 0 for a fresh checksum, or the
/// result of the previous call to extend it (the result is already finalised each time).
uint32_t rtes_crc32c(uint32_t crc, const void *data, size_t length);

/// 1 when the SSE4.2 instruction is used, 0 for the table.
int rtes_crc32c_hardware(void);

#endif

/* Part of AunceSearch's TorchSharp compat step (see build/torchsharp-compat.sh).
 * Usage: elf-weaken-version FILE VERSION SYMBOL
 * In the ELF64 shared object FILE: marks the version requirement VERSION (e.g. GLIBCXX_3.4.32) weak in
 * .gnu.version_r, so the loader tolerates its absence, and binds SYMBOL to no version (VER_NDX_GLOBAL) in
 * .gnu.version, so it resolves against whichever library defines it. Idempotent. Exit 0 on success. */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *buf; static long len;

static void fail(const char *what, const char *file) { fprintf(stderr, "elf-weaken-version: %s: %s\n", file, what); exit(2); }

static void *at(Elf64_Off off, size_t n, const char *file) {
    if (off > (Elf64_Off)len || n > (size_t)(len - (long)off)) fail("truncated or malformed ELF", file);
    return buf + off;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: elf-weaken-version FILE VERSION SYMBOL\n"); return 2; }
    const char *file = argv[1], *version = argv[2], *symbol = argv[3];
    FILE *f = fopen(file, "rb"); if (!f) fail("cannot open", file);
    fseek(f, 0, SEEK_END); len = ftell(f); fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)len); if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) fail("cannot read", file);
    fclose(f);
    Elf64_Ehdr *eh = at(0, sizeof *eh, file);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) fail("not an ELF64 file", file);
    Elf64_Shdr *sh = at(eh->e_shoff, (size_t)eh->e_shnum * sizeof *sh, file);
    Elf64_Shdr *dynsym = NULL, *versym = NULL, *verneed = NULL;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type == SHT_DYNSYM) dynsym = &sh[i];
        else if (sh[i].sh_type == SHT_GNU_versym) versym = &sh[i];
        else if (sh[i].sh_type == SHT_GNU_verneed) verneed = &sh[i];
    }
    if (!dynsym || !versym || !verneed) fail("no .dynsym/.gnu.version/.gnu.version_r section", file);
    const char *dynstr = at(sh[dynsym->sh_link].sh_offset, sh[dynsym->sh_link].sh_size, file);
    int weakened = 0, unbound = 0;
    unsigned char *p = at(verneed->sh_offset, verneed->sh_size, file);
    for (Elf64_Verneed *vn = (Elf64_Verneed *)p;; vn = (Elf64_Verneed *)((unsigned char *)vn + vn->vn_next)) {
        Elf64_Vernaux *va = (Elf64_Vernaux *)((unsigned char *)vn + vn->vn_aux);
        for (int j = 0; j < vn->vn_cnt; j++, va = (Elf64_Vernaux *)((unsigned char *)va + va->vna_next)) {
            if (strcmp(dynstr + va->vna_name, version) == 0) { va->vna_flags |= VER_FLG_WEAK; weakened++; }
            if (va->vna_next == 0) break;
        }
        if (vn->vn_next == 0) break;
    }
    size_t nsyms = dynsym->sh_size / sizeof(Elf64_Sym);
    Elf64_Sym *syms = at(dynsym->sh_offset, dynsym->sh_size, file);
    Elf64_Half *vs = at(versym->sh_offset, nsyms * sizeof(Elf64_Half), file);
    for (size_t i = 0; i < nsyms; i++)
        if (strcmp(dynstr + syms[i].st_name, symbol) == 0) { vs[i] = VER_NDX_GLOBAL; unbound++; }
    if (weakened == 0 && unbound == 0) { printf("elf-weaken-version: %s: neither %s nor %s present; nothing to do\n", file, version, symbol); return 0; }
    f = fopen(file, "r+b"); if (!f || fwrite(buf, 1, (size_t)len, f) != (size_t)len || fclose(f) != 0) fail("cannot write", file);
    printf("elf-weaken-version: %s: %d requirement(s) of %s weakened, %d symbol(s) %s unbound\n", file, weakened, version, unbound, symbol);
    return 0;
}

/* bpf.c - a user-space classic BPF interpreter with the kernel's seccomp
 * semantics: 32-bit loads from struct seccomp_data, 16 scratch words, forward
 * jumps only.  Pure code, so compiled filters are tested on rows of
 * (arch, nr, args) without loading them, and the runtime can answer an audit
 * notification with the action the enforcing program would have taken.
 */
#include "sbx-policy.h"
#include "util.h"

#include <linux/seccomp.h>
#include <string.h>

/* What the kernel does with a program it would have refused at load time:
 * we can not load it, so the safest answer is to kill. */
#define BAD SECCOMP_RET_KILL_PROCESS

static int load_word(const struct seccomp_data *sd, uint32_t off, uint32_t *out)
{
        /* the kernel only accepts aligned 32-bit loads inside seccomp_data */
        if (off % 4 != 0 || off + 4 > sizeof(*sd))
                return -1;
        memcpy(out, (const char *)sd + off, 4);
        return 0;
}

static int alu(uint16_t code, uint32_t *a, uint32_t operand)
{
        switch (BPF_OP(code)) {
        case BPF_ADD:
                *a += operand;
                return 0;
        case BPF_SUB:
                *a -= operand;
                return 0;
        case BPF_MUL:
                *a *= operand;
                return 0;
        case BPF_DIV:
                if (operand == 0)
                        return -1;
                *a /= operand;
                return 0;
        case BPF_MOD:
                if (operand == 0)
                        return -1;
                *a %= operand;
                return 0;
        case BPF_OR:
                *a |= operand;
                return 0;
        case BPF_AND:
                *a &= operand;
                return 0;
        case BPF_XOR:
                *a ^= operand;
                return 0;
        case BPF_LSH:
                *a = operand >= 32 ? 0 : *a << operand;
                return 0;
        case BPF_RSH:
                *a = operand >= 32 ? 0 : *a >> operand;
                return 0;
        case BPF_NEG:
                *a = -*a;
                return 0;
        default:
                return -2;
        }
}

static int jump(uint16_t code, uint32_t a, uint32_t operand, bool *taken)
{
        switch (BPF_OP(code)) {
        case BPF_JEQ:
                *taken = a == operand;
                return 0;
        case BPF_JGT:
                *taken = a > operand;
                return 0;
        case BPF_JGE:
                *taken = a >= operand;
                return 0;
        case BPF_JSET:
                *taken = (a & operand) != 0;
                return 0;
        default:
                return -1;
        }
}

uint32_t sbx_bpf_run(const struct sock_filter *prog, size_t len, const struct seccomp_data *sd)
{
        uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
        size_t pc = 0;

        while (pc < len) {
                const struct sock_filter *f = &prog[pc++];
                uint32_t src = BPF_SRC(f->code) == BPF_X ? x : f->k;
                bool taken;
                int r;

                switch (BPF_CLASS(f->code)) {
                case BPF_LD:
                        if (f->code == (BPF_LD | BPF_W | BPF_ABS)) {
                                if (load_word(sd, f->k, &a) < 0)
                                        return BAD;
                        } else if (f->code == (BPF_LD | BPF_W | BPF_LEN)) {
                                a = sizeof(*sd);
                        } else if (f->code == (BPF_LD | BPF_IMM)) {
                                a = f->k;
                        } else if (f->code == (BPF_LD | BPF_MEM) && f->k < BPF_MEMWORDS) {
                                a = mem[f->k];
                        } else {
                                return BAD;
                        }
                        break;
                case BPF_LDX:
                        if (f->code == (BPF_LDX | BPF_W | BPF_LEN))
                                x = sizeof(*sd);
                        else if (f->code == (BPF_LDX | BPF_IMM))
                                x = f->k;
                        else if (f->code == (BPF_LDX | BPF_MEM) && f->k < BPF_MEMWORDS)
                                x = mem[f->k];
                        else
                                return BAD;
                        break;
                case BPF_ST:
                case BPF_STX:
                        if (f->k >= BPF_MEMWORDS)
                                return BAD;
                        mem[f->k] = BPF_CLASS(f->code) == BPF_ST ? a : x;
                        break;
                case BPF_ALU:
                        r = alu(f->code, &a, src);
                        if (r == -1)
                                return SECCOMP_RET_KILL_THREAD; /* divide by zero: the program
                                                                   returns 0 */
                        if (r < 0)
                                return BAD;
                        break;
                case BPF_JMP:
                        if (BPF_OP(f->code) == BPF_JA) {
                                if (f->k >= len - pc)
                                        return BAD;
                                pc += f->k;
                                break;
                        }
                        if (jump(f->code, a, src, &taken) < 0)
                                return BAD;
                        pc += taken ? f->jt : f->jf;
                        break;
                case BPF_RET:
                        if (BPF_RVAL(f->code) == BPF_K)
                                return f->k;
                        if (BPF_RVAL(f->code) == BPF_A)
                                return a;
                        return BAD;
                case BPF_MISC:
                        if (BPF_MISCOP(f->code) == BPF_TAX)
                                x = a;
                        else
                                a = x;
                        break;
                default:
                        return BAD;
                }
        }
        return BAD; /* fell off the end: the kernel refuses such a program */
}

/* x25519pub SECKEYFILE: print the X25519 public key (hex) of a 32-byte secret key. */
#include <stdio.h>

#include <sodium.h>

int main(int argc, char **argv)
{
	unsigned char sk[32], pk[32];
	char hex[65];
	FILE *f;

	if (argc != 2 || sodium_init() < 0 || !(f = fopen(argv[1], "rb")) || fread(sk, 1, 32, f) != 32)
		return 2;
	fclose(f);
	crypto_scalarmult_base(pk, sk);
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
	puts(hex);
	return 0;
}

import Zeta
import alpha
import Beta
